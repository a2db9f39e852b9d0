/** MeshCircuitBreaker's merged `default` (Kuma's api.Conf), as plugins receive it. */
export interface MeshCircuitBreakerConf {
  readonly connectionLimits?: {
    readonly maxConnections?: number;
    readonly maxConnectionPools?: number;
    readonly maxPendingRequests?: number;
    readonly maxRequests?: number;
    readonly maxRetries?: number;
  };
  readonly outlierDetection?: {
    readonly disabled?: boolean;
    readonly interval?: string;
    readonly baseEjectionTime?: string;
    readonly maxEjectionPercent?: number;
    readonly splitExternalAndLocalErrors?: boolean;
    /** Envoy's healthy panic threshold (percent) for the cluster; moved here from MeshHealthCheck. */
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
