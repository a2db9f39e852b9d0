import type { TargetRef } from '../core/target-ref.ts';

/** MeshCircuitBreaker's spec (pkg/plugins/policies/meshcircuitbreaker/api/v1alpha1/meshcircuitbreaker.go). */
export interface MeshCircuitBreakerSpec {
  readonly targetRef?: TargetRef;
  readonly to?: readonly { readonly targetRef: TargetRef; readonly default?: MeshCircuitBreakerConf }[];
  /** Deprecated in favour of `rules`. */
  readonly from?: readonly { readonly targetRef: TargetRef; readonly default?: MeshCircuitBreakerConf }[];
  /** No `matches` for this policy. */
  readonly rules?: readonly { readonly default?: MeshCircuitBreakerConf }[];
}

export interface MeshCircuitBreakerConf {
  readonly connectionLimits?: {
    readonly maxConnections?: number;
    readonly maxConnectionPools?: number;
    readonly maxPendingRequests?: number;
    readonly maxRetries?: number;
    readonly maxRequests?: number;
  };
  readonly outlierDetection?: {
    readonly disabled?: boolean;
    readonly interval?: string;
    readonly baseEjectionTime?: string;
    readonly maxEjectionPercent?: number;
    readonly splitExternalAndLocalErrors?: boolean;
    readonly healthyPanicThreshold?: number | string;
    readonly detectors?: {
      readonly totalFailures?: { readonly consecutive?: number };
      readonly gatewayFailures?: { readonly consecutive?: number };
      readonly localOriginFailures?: { readonly consecutive?: number };
      readonly successRate?: { readonly minimumHosts?: number; readonly requestVolume?: number; readonly standardDeviationFactor?: number | string };
      readonly failurePercentage?: { readonly minimumHosts?: number; readonly requestVolume?: number; readonly threshold?: number };
    };
  };
}

export const CONNECTION_LIMITS = ['maxConnections', 'maxConnectionPools', 'maxPendingRequests', 'maxRetries', 'maxRequests'] as const;
export const DETECTORS = ['totalFailures', 'gatewayFailures', 'localOriginFailures', 'successRate', 'failurePercentage'] as const;
