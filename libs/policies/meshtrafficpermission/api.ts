import type { TargetRef } from '../core/target-ref.ts';

/** `rules[].matches` / MTP allow-deny entries (api/common/v1alpha1/match.go). */
export interface Match {
  readonly spiffeID?: { readonly type: 'Exact' | 'Prefix'; readonly value: string };
  readonly sni?: { readonly type: 'Exact'; readonly value: string };
}

/** MeshTrafficPermission's spec (pkg/plugins/policies/meshtrafficpermission/api/v1alpha1). */
export interface MeshTrafficPermissionSpec {
  readonly targetRef?: TargetRef;
  /** Deprecated in favour of `rules` (with MeshIdentity). */
  readonly from?: readonly { readonly targetRef: TargetRef; readonly default?: { readonly action?: 'Allow' | 'Deny' | 'AllowWithShadowDeny' } }[];
  readonly rules?: readonly { readonly default: { readonly allow?: readonly Match[]; readonly deny?: readonly Match[]; readonly allowWithShadowDeny?: readonly Match[] } }[];
}

export const ACTIONS = ['Allow', 'Deny', 'AllowWithShadowDeny'] as const;
