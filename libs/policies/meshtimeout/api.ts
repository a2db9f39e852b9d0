import type { TargetRef } from '../core/target-ref.ts';

/** MeshTimeout's spec (pkg/plugins/policies/meshtimeout/api/v1alpha1/meshtimeout.go). Durations are Go duration strings. */
export interface MeshTimeoutSpec {
  readonly targetRef?: TargetRef;
  readonly to?: readonly { readonly targetRef: TargetRef; readonly default?: MeshTimeoutConf }[];
  /** Deprecated in favour of `rules`. */
  readonly from?: readonly { readonly targetRef: TargetRef; readonly default?: MeshTimeoutConf }[];
  readonly rules?: readonly { readonly matches?: readonly unknown[]; readonly default?: MeshTimeoutConf }[];
}

export interface MeshTimeoutConf {
  readonly connectionTimeout?: string;
  readonly idleTimeout?: string;
  readonly http?: {
    readonly requestTimeout?: string;
    readonly streamIdleTimeout?: string;
    readonly maxStreamDuration?: string;
    readonly maxConnectionDuration?: string;
    readonly requestHeadersTimeout?: string;
  };
}

export const CONF_FIELDS = ['connectionTimeout', 'idleTimeout', 'http'] as const;
export const HTTP_FIELDS = ['requestTimeout', 'streamIdleTimeout', 'maxStreamDuration', 'maxConnectionDuration', 'requestHeadersTimeout'] as const;
