import type { BackendRef } from '../core/split.ts';

/**
 * MeshTCPRoute's configuration for one destination: Kuma computes a `Rule` (api/v1alpha1
 * meshtcproute.go; ComputeConf[api.Rule]), whose `default.backendRefs` is the split. A
 * `{rules: [rule]}` form (the policy's `to[]` item as written) is accepted too: its first rule.
 */
export interface MeshTCPRouteConf {
  readonly default?: { readonly backendRefs?: readonly BackendRef[] };
  readonly rules?: readonly { readonly default?: { readonly backendRefs?: readonly BackendRef[] } }[];
}
