import type { BackendRef } from '../meshhttproute/api.ts';
import type { TargetRef } from '../core/target-ref.ts';

/** MeshTCPRoute's spec (pkg/plugins/policies/meshtcproute/api/v1alpha1/meshtcproute.go). */
export interface MeshTCPRouteSpec {
  readonly targetRef?: TargetRef;
  readonly to?: readonly { readonly targetRef: TargetRef; readonly rules: readonly { readonly default: { readonly backendRefs: readonly BackendRef[] } }[] }[];
}
