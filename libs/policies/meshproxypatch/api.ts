import type { TargetRef } from '../core/target-ref.ts';

export interface JsonPatchOp {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  readonly path: string;
  readonly value?: unknown;
  readonly from?: string;
}

/** One modification: exactly one of the keys, each `{operation, match?, value?, jsonPatches?}`. */
export interface Modification {
  readonly cluster?: { readonly operation: 'Add' | 'Remove' | 'Patch'; readonly match?: Record<string, unknown>; readonly value?: string; readonly jsonPatches?: readonly JsonPatchOp[] };
  readonly listener?: Modification['cluster'];
  readonly networkFilter?: { readonly operation: 'AddFirst' | 'AddLast' | 'AddBefore' | 'AddAfter' | 'Remove' | 'Patch'; readonly match?: Record<string, unknown>; readonly value?: string; readonly jsonPatches?: readonly JsonPatchOp[] };
  readonly httpFilter?: Modification['networkFilter'];
  readonly virtualHost?: { readonly operation: 'Add' | 'Remove' | 'Patch'; readonly match?: Record<string, unknown>; readonly value?: string; readonly jsonPatches?: readonly JsonPatchOp[] };
}

/** MeshProxyPatch's spec (pkg/plugins/policies/meshproxypatch/api/v1alpha1). */
export interface MeshProxyPatchSpec {
  readonly targetRef?: TargetRef;
  readonly default: { readonly appendModifications: readonly Modification[] };
}

export const MODIFICATION_KINDS = ['cluster', 'listener', 'networkFilter', 'httpFilter', 'virtualHost'] as const;
