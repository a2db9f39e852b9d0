import type { TargetRef } from '../core/target-ref.ts';

/** MeshPassthrough's spec (pkg/plugins/policies/meshpassthrough/api/v1alpha1). */
export interface MeshPassthroughSpec {
  readonly targetRef?: TargetRef;
  readonly default: {
    readonly passthroughMode?: 'All' | 'Matched' | 'None';
    readonly appendMatch?: readonly { readonly type: 'Domain' | 'IP' | 'CIDR'; readonly value: string; readonly port?: number; readonly protocol?: (typeof PROTOCOLS)[number] }[];
  };
}

export const PROTOCOLS = ['tcp', 'tls', 'grpc', 'http', 'http2'] as const;
