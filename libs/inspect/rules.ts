import { ComputedPolicies, type PolicySource } from '../policies/engine/proxy-policies.ts';
import { traitsOf } from '../policies/engine/traits.ts';
import type { RuleMatch } from '../policies/core/matchable.ts';
import { buildInboundRules } from '../policies/core/rules-inbound.ts';
import { buildLegacyFromRules } from '../policies/core/rules-inbound-legacy.ts';
import { matchesKey } from '../policies/core/rules-outbound-legacy.ts';
import type { RuleOrigin } from '../policies/core/rules-common.ts';
import type { Subset } from '../policies/core/subset-rules.ts';
import type { DataplaneModel } from '../resources/dataplane-model.ts';

/** Kuma's api_common.Meta as the inspect API prints a resource: `{type, mesh, name, labels?}`. */
export interface MetaJson {
  readonly type: string;
  readonly mesh: string;
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}
interface Matcher {
  readonly key: string;
  readonly not: boolean;
  readonly value: string;
}
interface SubsetRuleJson {
  readonly conf: unknown;
  readonly matchers: readonly Matcher[];
  readonly origin: readonly MetaJson[];
}
interface InboundJson {
  readonly name?: string;
  readonly port: number;
  readonly tags: Readonly<Record<string, string>>;
}
interface InboundRuleJson {
  readonly conf: readonly unknown[];
  readonly match?: RuleMatch;
  readonly origin: readonly { readonly resourceMeta: MetaJson; readonly ruleIndex: number }[];
}
/** One entry of Kuma's InspectRules `rules[]`: the rules of one policy type for the proxy. */
export interface TypeRulesJson {
  readonly type: string;
  readonly toRules: readonly SubsetRuleJson[];
  /** Rules for real MeshService resources: always empty here (MeshService mode Disabled). */
  readonly toResourceRules: readonly never[];
  readonly fromRules: readonly { inbound: InboundJson; rules: readonly SubsetRuleJson[] }[];
  readonly inboundRules: readonly { inbound: InboundJson; rules: readonly InboundRuleJson[] }[];
  readonly proxyRule?: { readonly conf: unknown; readonly origin: readonly MetaJson[] };
  readonly warnings: readonly string[];
}
/** Kuma's InspectRulesResponse (`GET /meshes/{mesh}/dataplanes/{name}/_rules`). */
export interface InspectRulesJson {
  readonly httpMatches: readonly { readonly hash: string; readonly match: unknown }[];
  readonly resource: MetaJson;
  readonly rules: readonly TypeRulesJson[];
}

/** A policy's meta as Kuma prints an origin; `labelsOf` gives the stored labels (omitted when empty). */
export type LabelsOf = (type: string, mesh: string, name: string) => Readonly<Record<string, string>> | undefined;

const matchers = (s: Subset): Matcher[] => s.map((t) => ({ key: t.key, not: t.not, value: t.value }));

/** What a plugin would see: one conf, or the list when a merge kept several (MeshHTTPRoute hostnames). */
function confOf(type: string, conf: readonly unknown[]): unknown {
  const t = traitsOf(type).transform ?? ((c: unknown) => c);
  return conf.length === 1 ? t(conf[0]) : conf.map(t);
}

/**
 * Kuma's InspectRules for one proxy (pkg/api-server inspect endpoints), per policy type in the
 * order given (Kuma's plugin order), computed with the translator's engine (ComputedPolicies), so
 * what it shows is what plugins read:
 * - `toRules`: the outbound subset rules (`kuma.io/service` destinations), most specific first;
 * - `fromRules`: per inbound (sorted by port), the legacy `from[]` subset rules;
 * - `inboundRules`: per inbound, each rule entry unmerged, with its one origin and match;
 * - `proxyRule`: the conf of single-item types;
 * - `warnings`: targets that could not be resolved.
 * A type with none of these is left out, as in Kuma. `httpMatches` lists MeshHTTPRoute rule
 * matches by their key (ours: `matchesKey`, not Kuma's hash). Pure.
 */
export function inspectRules(
  source: PolicySource,
  policyTypes: Iterable<string>,
  dp: DataplaneModel,
  resource: MetaJson,
  labelsOf: LabelsOf = () => undefined,
): InspectRulesJson {
  const meta = (o: RuleOrigin): MetaJson => {
    const labels = labelsOf(o.type, o.mesh, o.name);
    return { type: o.type, mesh: o.mesh, name: o.name, ...(labels && Object.keys(labels).length > 0 ? { labels } : {}) };
  };
  /** Each contributing policy once, in merge order (Kuma's origin lists policies, not entries). */
  const metas = (origins: readonly RuleOrigin[]): MetaJson[] => {
    const seen = new Set<string>();
    return origins.filter((o) => {
      const k = `${o.type}\u0000${o.mesh}\u0000${o.name}`;
      return seen.has(k) ? false : (seen.add(k), true);
    }).map(meta);
  };
  const computed = new ComputedPolicies(source, dp);
  const inboundOf = (key: string): InboundJson => {
    const i = dp.inbounds.find((x) => `${x.address}:${x.port}` === key);
    return { ...(i?.name ? { name: i.name } : {}), port: i?.port ?? Number(key.slice(key.lastIndexOf(':') + 1)), tags: i?.tags ?? {} };
  };
  const httpMatches = new Map<string, unknown>();
  const rules: TypeRulesJson[] = [];
  for (const type of policyTypes) {
    const r = computed.rules(type);
    if (r.matched.policies.length === 0 && r.matched.warnings.length === 0) continue;
    const traits = traitsOf(type);
    const fromRules: TypeRulesJson['fromRules'][number][] = [];
    const inboundRules: TypeRulesJson['inboundRules'][number][] = [];
    for (const [key, { policies }] of r.matched.byInbound) {
      const inbound = inboundOf(key);
      const built = buildInboundRules(policies, { ...traits.merge, isFromAsRules: traits.isFromAsRules });
      const legacy =
        built.legacyFrom.length > 0 && built.catchAll.conf.length === 0
          ? buildLegacyFromRules(policies, traits.merge).map((s) => ({ conf: confOf(type, s.conf), matchers: matchers(s.subset), origin: metas(s.origin) }))
          : built.catchAll.conf.length > 0
            ? [{ conf: confOf(type, built.catchAll.conf), matchers: [], origin: metas(built.catchAll.origin) }]
            : [];
      if (legacy.length > 0) fromRules.push({ inbound, rules: legacy });
      if (built.rules.length > 0) {
        inboundRules.push({
          inbound,
          rules: built.rules.map((x) => ({
            conf: [x.conf],
            ...(x.matches[0] ? { match: x.matches[0] } : {}),
            origin: [{ resourceMeta: meta(x.origin), ruleIndex: x.origin.ruleIndex }],
          })),
        });
      }
    }
    fromRules.sort((a, b) => a.inbound.port - b.inbound.port);
    inboundRules.sort((a, b) => a.inbound.port - b.inbound.port);
    const toRules = r.to.rules.filter((s) => s.conf.length > 0).map((s) => ({ conf: confOf(type, s.conf), matchers: matchers(s.subset), origin: metas(s.origin) }));
    if (type === 'MeshHTTPRoute') {
      for (const t of toRules) {
        for (const rule of ((t.conf as { rules?: { matches?: unknown }[] }).rules ?? [])) httpMatches.set(matchesKey(rule.matches ?? []), rule.matches ?? []);
      }
    }
    const proxyRule = r.single.conf.length > 0 ? { conf: confOf(type, r.single.conf), origin: metas(r.single.origin) } : undefined;
    if (!proxyRule && fromRules.length === 0 && toRules.length === 0 && inboundRules.length === 0 && r.matched.warnings.length + r.to.warnings.length === 0) continue;
    rules.push({
      type,
      toRules,
      toResourceRules: [],
      fromRules,
      inboundRules,
      ...(proxyRule ? { proxyRule } : {}),
      warnings: [...r.matched.warnings, ...r.to.warnings],
    });
  }
  const matches = [...httpMatches].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([hash, match]) => ({ hash, match }));
  return { httpMatches: matches, resource, rules };
}
