import { ComputedPolicies, type PolicySource } from '../policies/engine/proxy-policies.ts';
import { traitsOf } from '../policies/engine/traits.ts';
import { buildInboundRules } from '../policies/core/rules-inbound.ts';
import { buildLegacyFromRules } from '../policies/core/rules-inbound-legacy.ts';
import type { RuleOrigin } from '../policies/core/rules-common.ts';
import type { Subset } from '../policies/core/subset-rules.ts';
import type { DataplaneModel } from '../resources/dataplane-model.ts';

/** Kuma's ResourceMeta as the inspect API prints an origin (`{mesh, name, type}`). */
export interface OriginMeta {
  readonly mesh: string;
  readonly name: string;
  readonly type: string;
}
interface Matcher {
  readonly key: string;
  readonly not: boolean;
  readonly value: string;
}
interface SubsetRuleJson {
  readonly conf: unknown;
  readonly matchers: readonly Matcher[];
  readonly origin: readonly OriginMeta[];
}
interface InboundJson {
  readonly name?: string;
  readonly port: number;
  readonly tags: Readonly<Record<string, string>>;
}
/** One entry of Kuma's InspectRules `rules[]`: the rules of one policy type for the proxy. */
export interface TypeRulesJson {
  readonly type: string;
  readonly warnings: readonly string[];
  readonly toRules: readonly SubsetRuleJson[];
  readonly fromRules: readonly { inbound: InboundJson; rules: readonly SubsetRuleJson[] }[];
  readonly inboundRules: readonly { inbound: InboundJson; rules: readonly { conf: readonly unknown[]; origin: readonly { resourceMeta: OriginMeta; ruleIndex: number }[] }[] }[];
  readonly proxyRule?: { readonly conf: unknown; readonly origin: readonly OriginMeta[] };
}
/** Kuma's InspectRules (`GET /meshes/{mesh}/dataplanes/{name}/_rules`). */
export interface InspectRulesJson {
  readonly resource: { readonly mesh: string; readonly name: string; readonly type: 'Dataplane' };
  readonly rules: readonly TypeRulesJson[];
}

const meta = (o: RuleOrigin): OriginMeta => ({ mesh: o.mesh, name: o.name, type: o.type });
/** Each contributing policy once, in merge order (Kuma's origin lists policies, not entries). */
const metas = (origins: readonly RuleOrigin[]): OriginMeta[] => {
  const seen = new Set<string>();
  const out: OriginMeta[] = [];
  for (const o of origins) {
    const k = `${o.type}\u0000${o.mesh}\u0000${o.name}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(meta(o));
    }
  }
  return out;
};
const matchers = (s: Subset): Matcher[] => s.map((t) => ({ key: t.key, not: t.not, value: t.value }));

/** What a plugin would see: one conf, or the list when a merge kept several (MeshHTTPRoute hostnames). */
function confOf(type: string, conf: readonly unknown[]): unknown {
  const t = traitsOf(type).transform ?? ((c: unknown) => c);
  return conf.length === 1 ? t(conf[0]) : conf.map(t);
}

/**
 * Kuma's InspectRules for one proxy: per policy type that has a policy selecting it (sorted by
 * type), the outbound subset rules (`toRules`), the per-inbound rules (`fromRules` as subset rules,
 * `inboundRules` as the merged conf of the new rules API), the whole-proxy rule of single-item types
 * (`proxyRule`) and the warnings of unresolved targets. Computed with the same engine as the
 * translator (ComputedPolicies), so what it shows is what plugins read. Pure.
 */
export function inspectRules(source: PolicySource, policyTypes: Iterable<string>, dp: DataplaneModel, mesh: string): InspectRulesJson {
  const computed = new ComputedPolicies(source, dp);
  const inboundOf = (key: string): InboundJson => {
    const i = dp.inbounds.find((x) => `${x.address}:${x.port}` === key);
    return { ...(i?.name ? { name: i.name } : {}), port: i?.port ?? Number(key.slice(key.lastIndexOf(':') + 1)), tags: i?.tags ?? {} };
  };
  const rules: TypeRulesJson[] = [];
  for (const type of [...policyTypes].sort()) {
    const r = computed.rules(type);
    if (r.matched.policies.length === 0) continue;
    const traits = traitsOf(type);
    const fromRules: { inbound: InboundJson; rules: SubsetRuleJson[] }[] = [];
    const inboundRules: TypeRulesJson['inboundRules'][number][] = [];
    for (const [key, { policies }] of r.matched.byInbound) {
      const inbound = inboundOf(key);
      const built = buildInboundRules(policies, { ...traits.merge, isFromAsRules: traits.isFromAsRules });
      if (built.catchAll.conf.length > 0) {
        fromRules.push({ inbound, rules: [{ conf: confOf(type, built.catchAll.conf), matchers: [], origin: metas(built.catchAll.origin) }] });
        inboundRules.push({
          inbound,
          rules: [{ conf: built.catchAll.conf, origin: built.catchAll.origin.map((o) => ({ resourceMeta: meta(o), ruleIndex: o.ruleIndex })) }],
        });
      } else if (built.legacyFrom.length > 0) {
        const subset = buildLegacyFromRules(policies, traits.merge);
        fromRules.push({ inbound, rules: subset.map((s) => ({ conf: confOf(type, s.conf), matchers: matchers(s.subset), origin: metas(s.origin) })) });
      }
    }
    const single = r.single.conf.length > 0 ? { proxyRule: { conf: confOf(type, r.single.conf), origin: metas(r.single.origin) } } : {};
    rules.push({
      type,
      warnings: [...r.matched.warnings, ...r.to.warnings],
      toRules: r.to.rules.filter((s) => s.conf.length > 0).map((s) => ({ conf: confOf(type, s.conf), matchers: matchers(s.subset), origin: metas(s.origin) })),
      fromRules,
      inboundRules,
      ...single,
    });
  }
  return { resource: { mesh, name: dp.name, type: 'Dataplane' }, rules };
}
