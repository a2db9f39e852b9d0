import type { TargetRef } from '../core/target-ref.ts';

/** MeshRateLimit's spec (pkg/plugins/policies/meshratelimit/api/v1alpha1). */
export interface MeshRateLimitSpec {
  readonly targetRef?: TargetRef;
  /** Only when the top-level targetRef includes gateways. */
  readonly to?: readonly { readonly targetRef: TargetRef; readonly default?: MeshRateLimitConf }[];
  readonly from?: readonly { readonly targetRef: TargetRef; readonly default?: MeshRateLimitConf }[];
  readonly rules?: readonly { readonly matches?: readonly unknown[]; readonly default?: MeshRateLimitConf }[];
}

export interface Rate {
  readonly num: number;
  readonly interval: string;
}

export interface MeshRateLimitConf {
  readonly local?: {
    readonly http?: {
      readonly disabled?: boolean;
      readonly requestRate?: Rate;
      readonly onRateLimit?: { readonly status?: number; readonly headers?: { readonly set?: readonly { name: string; value: string }[]; readonly add?: readonly { name: string; value: string }[] } };
    };
    readonly tcp?: { readonly disabled?: boolean; readonly connectionRate?: Rate };
  };
}
