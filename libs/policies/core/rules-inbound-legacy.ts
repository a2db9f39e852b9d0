/**
 * Kuma's legacy "from" rules (core/rules BuildFromRules over `from[]`): the subset rules Kuma 2.14 still uses for the
 * `from[]` of MeshTrafficPermission and MeshFaultInjection (types whose `from` is not read as rules), and which it
 * builds for every type with `from[]`. Each rule says: clients whose tags fall in `subset` get `conf`.
 */
import type { PolicyItem } from './matchable.ts';
import type { MergeOptions } from './merge.ts';
import { originOfEntry } from './rules-common.ts';
import { sortPolicies } from './sort.ts';
import { buildSubsetRules, subsetOfTargetRef, type SubsetItem, type SubsetRule } from './subset-rules.ts';

/** The `from[]` entries of `policies`, in the given order (ascending priority), as subset items. */
export function legacyFromItems(policies: readonly PolicyItem[]): SubsetItem[] {
  const items: SubsetItem[] = [];
  for (const p of policies)
    (p.spec.from ?? []).forEach((f, index) => {
      const subset = subsetOfTargetRef(f.targetRef);
      if (subset) items.push({ subset, conf: f.default, origin: originOfEntry(p, index) });
    });
  return items;
}

/**
 * The legacy "from" rules of one inbound from the policies selecting it (any order: sorted here), with negations,
 * most specific first. Use `computeSubsetRule(rules, clientTags)` for one client.
 */
export function buildLegacyFromRules(policies: readonly PolicyItem[], opts: MergeOptions = {}): SubsetRule[] {
  return buildSubsetRules(legacyFromItems(sortPolicies(policies)), { ...opts, withNegations: true });
}
