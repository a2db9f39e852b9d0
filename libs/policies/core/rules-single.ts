/**
 * Single-item policies (MeshTrace, MeshMetric, MeshProxyPatch, MeshPassthrough): Kuma's BuildSingleItemRules, the merge
 * of `spec.default` over the dataplane's matched policies in priority order.
 */
import type { PolicyItem } from './matchable.ts';
import { mergeConfs, type MergeOptions } from './merge.ts';
import { originOfEntry, type Rule } from './rules-common.ts';
import { sortPolicies } from './sort.ts';

/**
 * Merges `default` of `policies` (re-sorted here, so any order is accepted; policies without `default` are skipped).
 * Returns `{conf: [], origin: []}` when none has a default.
 */
export function buildSingleItemRule(policies: readonly PolicyItem[], opts: MergeOptions = {}): Rule {
  const withDefault = sortPolicies(policies).filter((p) => p.spec.default !== undefined);
  return {
    conf: mergeConfs(withDefault.map((p) => p.spec.default), opts),
    origin: withDefault.map((p) => originOfEntry(p, 0)),
  };
}
