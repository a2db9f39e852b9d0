import type { TargetRef } from '../core/target-ref.ts';

/** MeshTrace's spec (pkg/plugins/policies/meshtrace/api/v1alpha1). */
export interface MeshTraceSpec {
  readonly targetRef?: TargetRef;
  readonly default: {
    /** At most one. */
    readonly backends?: readonly {
      readonly type: 'Zipkin' | 'Datadog' | 'OpenTelemetry';
      readonly zipkin?: { readonly url: string; readonly traceId128bit?: boolean; readonly apiVersion?: 'httpJson' | 'httpProto'; readonly sharedSpanContext?: boolean };
      readonly datadog?: { readonly url: string; readonly splitService?: boolean };
      readonly openTelemetry?: { readonly endpoint?: string; readonly backendRef?: { readonly kind: string; readonly name?: string } };
    }[];
    readonly sampling?: { readonly overall?: number | string; readonly client?: number | string; readonly random?: number | string };
    readonly tags?: readonly { readonly name: string; readonly literal?: string; readonly header?: { readonly name: string; readonly default?: string } }[];
  };
}
