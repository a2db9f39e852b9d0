/**
 * Kuma's legacy "to" rules (core/rules/rules.go: legacyBuildToRules, BuildRules, createRule, Rules.Compute): what Kuma
 * 2.14 computes for outbounds that are `kuma.io/service` values rather than real MeshService resources, which is every
 * outbound of a mesh with MeshService mode Disabled (the default), and so every outbound in this project today.
 *
 * Differences from the resource rules in rules-outbound.ts, both taken from Kuma:
 * - merge order is the policy order, then the `to[]` index; the `to` targetRef kind does not reorder entries, so an
 *   alphabetically-first policy's `Mesh` entry overrides a later-sorted policy's `MeshService` entry;
 * - `sectionName` is ignored (a MeshService subset is `kuma.io/service: name` only);
 * - a policy with any `to[]` item targeting a MeshHTTPRoute is skipped entirely;
 * - a policy whose TOP-LEVEL targetRef is a MeshHTTPRoute contributes per route rule: its `to[]` defaults apply to the
 *   route rule's `matches` (for `kuma.io/service` of the route's `to` item, or every service if that item is `Mesh`).
 *
 * The rules are Kuma's subset rules without negations (subset-rules.ts); lookups are Kuma's Rules.Compute on the
 * element `{kuma.io/service}` or `{kuma.io/service, __rule-matches-hash__}`, cached.
 */
import { LABEL, topTargetRef, type PolicyItem, type ToItem } from './matchable.ts';
import type { MergeOptions } from './merge.ts';
import { originOfEntry, type Rule } from './rules-common.ts';
import { sortPolicies } from './sort.ts';
import { buildSubsetRules, computeSubsetRule, subsetOfTags, subsetOfTargetRef, type SubsetItem, type SubsetRule } from './subset-rules.ts';

/** Subset tag Kuma uses for a MeshHTTPRoute rule's matches (rules.RuleMatchesHashTag). */
export const RULE_MATCHES_TAG = '__rule-matches-hash__';

export interface LegacyToRuleOptions extends MergeOptions {
  /** The MeshHTTPRoute a top-level `kind: MeshHTTPRoute` names (same lookup as selection). */
  readonly route?: (mesh: string, name: string) => PolicyItem | undefined;
  /** The conf of a `to[]` item. Default: `item.default`. */
  readonly defaultOf?: (item: ToItem) => unknown;
}

export interface LegacyToRules {
  /** The rule for traffic to `service` (Mesh entries and that service's entries), `{conf: [], origin: []}` when none. */
  rulesFor(service: string): Rule;
  /**
   * The rule for one MeshHTTPRoute rule (`matches` exactly as in the route) towards `service`: `rulesFor(service)`'s
   * items plus those of policies targeting a route with a rule of equal matches.
   */
  routeRulesFor(service: string, matches: unknown): Rule;
  /** Every subset rule, most specific first (what Kuma's inspect API lists as `toRules`). */
  readonly rules: readonly SubsetRule[];
  readonly warnings: readonly string[];
}


/** Deep-equal values give equal keys (object keys sorted); stands in for Kuma's hash of the matches. */
export function matchesKey(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(matchesKey).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${matchesKey(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}


/**
 * Builds the legacy "to" rules from the policies matched for a dataplane (any order: sorted here with
 * `sortPolicies`, Kuma's SortByTargetRef).
 */
export function buildLegacyToRules(policies: readonly PolicyItem[], opts: LegacyToRuleOptions = {}): LegacyToRules {
  const defaultOf = opts.defaultOf ?? ((i: ToItem) => i.default);
  const items: SubsetItem[] = [];
  const warnings: string[] = [];
  for (const policy of sortPolicies(policies)) {
    const to = policy.spec.to ?? [];
    if (to.some((t) => t.targetRef.kind === 'MeshHTTPRoute')) continue;
    const top = topTargetRef(policy);
    if (top.kind === 'MeshHTTPRoute') {
      const route = top.name !== undefined ? opts.route?.(policy.mesh, top.name) : undefined;
      if (!route) {
        warnings.push(`policy ${policy.type}/${policy.name}: can't resolve MeshHTTPRoute policy`);
        continue;
      }
      for (const routeTo of route.spec.to ?? []) {
        const isMesh = routeTo.targetRef.kind === 'Mesh';
        const service = isMesh ? undefined : (routeTo.targetRef.name ?? routeTo.targetRef.labels?.[LABEL.displayName]);
        if (!isMesh && !service) {
          warnings.push(`policy ${policy.type}/${policy.name}: can't resolve ${routeTo.targetRef.kind} targetRef of route ${route.name} to a service`);
          continue;
        }
        for (const rule of (routeTo['rules'] ?? []) as { matches?: unknown }[]) {
          const tags: Record<string, string> = { [RULE_MATCHES_TAG]: matchesKey(rule.matches ?? []) };
          if (service) tags[LABEL.service] = service;
          const subset = subsetOfTags(tags);
          to.forEach((t, index) => items.push({ subset, conf: defaultOf(t), origin: originOfEntry(policy, index) }));
        }
      }
      continue;
    }
    to.forEach((t, index) => {
      const subset = subsetOfTargetRef(t.targetRef);
      if (!subset) {
        warnings.push(`policy ${policy.type}/${policy.name} to[${index}]: can't represent ${t.targetRef.kind} as tags`);
        return;
      }
      items.push({ subset, conf: defaultOf(t), origin: originOfEntry(policy, index) });
    });
  }

  const rules = buildSubsetRules(items, { ...opts, withNegations: false });
  const EMPTY: Rule = { conf: [], origin: [] };
  const compute = (element: Readonly<Record<string, string>>): Rule => {
    const r = computeSubsetRule(rules, element);
    return r ? { conf: r.conf, origin: r.origin } : EMPTY;
  };
  const cache = new Map<string, Rule>();
  const cached = (key: string, element: Record<string, string>): Rule => {
    let r = cache.get(key);
    if (!r) cache.set(key, (r = compute(element)));
    return r;
  };
  return {
    rulesFor: (service) => cached(`s\u0000${service}`, { [LABEL.service]: service }),
    routeRulesFor: (service, matches) => {
      const mk = matchesKey(matches ?? []);
      return cached(`r\u0000${service}\u0000${mk}`, { [LABEL.service]: service, [RULE_MATCHES_TAG]: mk });
    },
    rules,
    warnings,
  };
}
