import type { TargetRef } from '../core/target-ref.ts';

/** MeshMetric's spec (pkg/plugins/policies/meshmetric/api/v1alpha1). */
export interface MeshMetricSpec {
  readonly targetRef?: TargetRef;
  readonly default: {
    readonly sidecar?: {
      readonly profiles?: {
        readonly appendProfiles?: readonly { readonly name: 'All' | 'Basic' | 'None' }[];
        readonly exclude?: readonly { readonly type: 'Regex' | 'Prefix' | 'Exact' | 'Contains'; readonly match: string }[];
        readonly include?: readonly { readonly type: 'Regex' | 'Prefix' | 'Exact' | 'Contains'; readonly match: string }[];
      };
      readonly includeUnused?: boolean;
    };
    readonly applications?: readonly { readonly name?: string; readonly path?: string; readonly address?: string; readonly port: number }[];
    readonly backends?: readonly {
      readonly type: 'Prometheus' | 'OpenTelemetry';
      readonly prometheus?: { readonly clientId?: string; readonly port: number; readonly path: string; readonly tls?: { readonly mode: 'Disabled' | 'ProvidedTLS' | 'ActiveMTLSBackend' } };
      readonly openTelemetry?: { readonly endpoint?: string; readonly refreshInterval?: string; readonly backendRef?: { readonly kind: string; readonly name?: string } };
    }[];
  };
}
