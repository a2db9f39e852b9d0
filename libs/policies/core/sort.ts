/**
 * Kuma's policy ordering (matchers.SortByTargetRef, rules/sort, rules/outbound/sort.go, rules/inbound/sort.go).
 * Everything sorts ASCENDING by priority: merge folds left, so the last element wins. Sorts are stable.
 */
import { compareOrigin, compareRole, displayNameOf, originOf, roleOf, topTargetRef, type PolicyItem } from './matchable.ts';
import { kindOrder, type TargetRef } from './target-ref.ts';

export type Comparator<T> = (a: T, b: T) => number;

/** Dataplane-kind refinement: `labels` (or nothing) before `name`, then no `sectionName` before `sectionName`. 0 for other kinds. */
export function compareDataplaneRef(a: TargetRef, b: TargetRef): number {
  if (a.kind !== 'Dataplane' || b.kind !== 'Dataplane') return 0;
  const byName = Number(a.name !== undefined && a.name !== '') - Number(b.name !== undefined && b.name !== '');
  if (byName !== 0) return byName;
  return Number(!!a.sectionName) - Number(!!b.sectionName);
}

/**
 * Kuma's CompareByPolicyAttributes over the policies' top-level targetRefs: kind order (Mesh < Dataplane < MeshSubset <
 * MeshGateway < MeshService < ... < MeshHTTPRoute), the Dataplane refinement, origin (global < unknown < zone), MeshGateway
 * with fewer listener tags first, role (system < producer < consumer < workload-owner). Ties return 0.
 */
export function compareByPolicyAttributes(a: PolicyItem, b: PolicyItem): number {
  const ta = topTargetRef(a);
  const tb = topTargetRef(b);
  return (
    kindOrder(ta.kind) - kindOrder(tb.kind) ||
    compareDataplaneRef(ta, tb) ||
    compareOrigin(originOf(a), originOf(b)) ||
    (ta.kind === 'MeshGateway' && tb.kind === 'MeshGateway' ? Object.keys(ta.tags ?? {}).length - Object.keys(tb.tags ?? {}).length : 0) ||
    compareRole(roleOf(a), roleOf(b))
  );
}

/** Display name DESCENDING, so that the alphabetically first name ends up last and wins. */
export function compareByDisplayNameDesc(a: PolicyItem, b: PolicyItem): number {
  const na = displayNameOf(a);
  const nb = displayNameOf(b);
  return na < nb ? 1 : na > nb ? -1 : 0;
}

/** `to[].targetRef`: kind order, then for MeshService no `sectionName` before `sectionName`. */
export function compareToTargetRef(a: TargetRef, b: TargetRef): number {
  const k = kindOrder(a.kind) - kindOrder(b.kind);
  if (k !== 0 || a.kind !== 'MeshService') return k;
  return Number(!!a.sectionName) - Number(!!b.sectionName);
}

/** A new array of `policies`, sorted by policy attributes then display name descending (matchers.SortByTargetRef). */
export function sortPolicies<P extends PolicyItem>(policies: readonly P[]): P[] {
  return [...policies].sort((a, b) => compareByPolicyAttributes(a, b) || compareByDisplayNameDesc(a, b));
}

/** An entry taken out of a policy (a `to[]`, `from[]` or `rules[]` item), remembering its policy and index. */
export interface PolicyEntry<E> {
  readonly policy: PolicyItem;
  readonly entry: E;
  readonly index: number;
}

/** Inbound entries: policy attributes, then display name descending; entries of one policy keep their order. */
export function sortInboundEntries<E>(entries: readonly PolicyEntry<E>[]): PolicyEntry<E>[] {
  return [...entries].sort((a, b) => compareByPolicyAttributes(a.policy, b.policy) || compareByDisplayNameDesc(a.policy, b.policy));
}

/** Outbound (`to[]`) entries: policy attributes, then the `to` targetRef, then display name descending. */
export function sortToEntries<E extends { readonly targetRef: TargetRef }>(entries: readonly PolicyEntry<E>[]): PolicyEntry<E>[] {
  return [...entries].sort(
    (a, b) =>
      compareByPolicyAttributes(a.policy, b.policy) ||
      compareToTargetRef(a.entry.targetRef, b.entry.targetRef) ||
      compareByDisplayNameDesc(a.policy, b.policy),
  );
}
