/**
 * Inbound rules (Kuma's rules/inbound: BuildRules, Sort, SortRules, MatchesAllIncomingTraffic), computed per inbound
 * listener from the policies that select it.
 */
import type { FromItem, PolicyItem, RuleItem, RuleMatch } from './matchable.ts';
import { mergeConfs, type MergeOptions } from './merge.ts';
import { originOfEntry, type Rule, type RuleOrigin } from './rules-common.ts';
import type { MatchedPolicies } from './select.ts';
import { sortInboundEntries, type PolicyEntry } from './sort.ts';

/** One inbound rule: at most one match (multi-match entries are expanded), its conf unmerged, and its origin. */
export interface InboundRule {
  readonly matches: readonly RuleMatch[];
  readonly conf: unknown;
  readonly origin: RuleOrigin;
}

export interface InboundRules {
  /** Every rule, expanded per match and sorted: spiffeID Exact < Prefix < none, then SNI < none; stable otherwise. */
  readonly rules: readonly InboundRule[];
  /** The merge of every rule without a match (Kuma's MatchesAllIncomingTraffic). */
  readonly catchAll: Rule;
  /**
   * For types whose `from[]` is NOT read as rules (MeshTrafficPermission, MeshFaultInjection): the `from[]` entries of
   * policies without `rules[]`, sorted by policy. Their per-client confs are Kuma's legacy subset rules:
   * `buildLegacyFromRules` (rules-inbound-legacy.ts). Empty for other types.
   */
  readonly legacyFrom: readonly PolicyEntry<FromItem>[];
}

export interface InboundRuleOptions extends MergeOptions {
  /** Kuma's descriptor flag IsFromAsRules: `from[]` items become match-less rules when a policy has no `rules[]`. */
  readonly isFromAsRules: boolean;
}

/**
 * Builds the inbound rules of one listener from the policies selecting it (any order: they are sorted here).
 * A policy contributes its `rules[]` when non-empty; otherwise, if `isFromAsRules`, its `from[]` as rules without
 * matches; otherwise its `from[]` goes to `legacyFrom`.
 */
export function buildInboundRules(policies: readonly PolicyItem[], opts: InboundRuleOptions): InboundRules {
  const entries: PolicyEntry<RuleItem>[] = [];
  const legacy: PolicyEntry<FromItem>[] = [];
  for (const policy of policies) {
    const rules = policy.spec.rules ?? [];
    const from = policy.spec.from ?? [];
    if (rules.length > 0) rules.forEach((entry, index) => entries.push({ policy, entry, index }));
    else if (opts.isFromAsRules) from.forEach((f, index) => entries.push({ policy, entry: { default: f.default }, index }));
    else from.forEach((entry, index) => legacy.push({ policy, entry, index }));
  }
  const expanded: InboundRule[] = [];
  for (const e of sortInboundEntries(entries)) {
    const origin = originOfEntry(e.policy, e.index);
    const matches = e.entry.matches ?? [];
    if (matches.length === 0) expanded.push({ matches: [], conf: e.entry.default, origin });
    else for (const m of matches) expanded.push({ matches: [m], conf: e.entry.default, origin });
  }
  expanded.sort((a, b) => compareMatch(a.matches[0], b.matches[0]));
  const catchAllRules = expanded.filter((r) => r.matches.length === 0 && r.conf !== undefined);
  return {
    rules: expanded,
    catchAll: { conf: mergeConfs(catchAllRules.map((r) => r.conf), opts), origin: catchAllRules.map((r) => r.origin) },
    legacyFrom: sortInboundEntries(legacy),
  };
}

/** Inbound rules for every listener of a `matchedPolicies` result, keyed like `byInbound`. */
export function buildInboundRulesByListener(matched: MatchedPolicies, opts: InboundRuleOptions): Map<string, InboundRules> {
  const out = new Map<string, InboundRules>();
  for (const [k, v] of matched.byInbound) out.set(k, buildInboundRules(v.policies, opts));
  return out;
}

/** Kuma's CompareMatch: a spiffeID match before none (Exact before Prefix), then an SNI match before none. */
export function compareMatch(a: RuleMatch | undefined, b: RuleMatch | undefined): number {
  const sa = a?.spiffeID;
  const sb = b?.spiffeID;
  if (sa && !sb) return -1;
  if (!sa && sb) return 1;
  if (sa && sb) {
    const score = (t: string) => (t === 'Exact' ? 2 : t === 'Prefix' ? 1 : 0);
    const c = score(sb.type) - score(sa.type);
    if (c !== 0) return c;
  }
  return Number(!a?.sni) - Number(!b?.sni);
}
