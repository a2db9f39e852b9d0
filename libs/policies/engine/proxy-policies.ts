import type { DataplaneModel, InboundModel } from '../../resources/dataplane-model.ts';
import type { ClientRules, ProxyPolicies } from '../../xds/generate/plugin.ts';
import type { PolicyItem } from '../core/matchable.ts';
import { buildInboundRules } from '../core/rules-inbound.ts';
import { buildLegacyFromRules } from '../core/rules-inbound-legacy.ts';
import { buildLegacyToRules, type LegacyToRules } from '../core/rules-outbound-legacy.ts';
import { buildSingleItemRule } from '../core/rules-single.ts';
import { listenerKey, matchedPolicies, type MatchedPolicies, type SelectionContext } from '../core/select.ts';
import { computeSubsetRule } from '../core/subset-rules.ts';
import type { Rule } from '../core/rules-common.ts';
import { traitsOf } from './traits.ts';

const transformed = new WeakMap<object, unknown>();

/** Ids of shared rule objects, by identity (see `outboundKey`). */
const objectIds = new WeakMap<object, number>();
let lastObjectId = 0;
const objectId = (o: object): number => {
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = ++lastObjectId));
  return id;
};
const NO_RULE: Rule = { conf: [], origin: [] };

/** Where the engine finds a mesh's policies (the mesh view's MeshState satisfies it). */
export interface PolicySource {
  policies(type: string): Iterable<PolicyItem>;
  readonly selectionContext: SelectionContext;
  /**
   * Where rules computed from a set of matched policies are shared between proxies; the source
   * empties it whenever a policy changes (MeshState.rulesCache).
   */
  readonly rulesCache?: Map<string, unknown>;
}

/** Everything computed for one proxy and one policy type, with where each conf came from (for `_rules`). */
export interface TypeRules {
  readonly matched: MatchedPolicies;
  readonly to: LegacyToRules;
  /** Per inbound listener (`address:port`): the conf for every client. */
  readonly from: ReadonlyMap<string, Rule>;
  readonly single: Rule;
}

/**
 * Kuma's rules for one proxy, computed per policy type on first use (a type no plugin asks about
 * costs nothing), as the translator's plugins read them. Matching, sorting and merging are
 * libs/policies/core's; outbound rules are Kuma's legacy `kuma.io/service` rules (MeshService mode
 * Disabled, Kuma's default), so they are keyed by destination service.
 */
export class ComputedPolicies implements ProxyPolicies {
  private readonly byType = new Map<string, TypeRules>();

  constructor(
    private readonly source: PolicySource,
    private readonly dataplane: DataplaneModel,
  ) {}

  rules(type: string): TypeRules {
    let r = this.byType.get(type);
    if (!r) this.byType.set(type, (r = this.compute(type)));
    return r;
  }

  toService(type: string, service: string): unknown {
    return this.view(type, this.rules(type).to.rulesFor(service));
  }

  toAnyService(type: string): unknown {
    // The element with no tags is covered only by the rules that hold for every destination.
    const r = computeSubsetRule(this.rules(type).to.rules, {});
    return r ? this.view(type, { conf: r.conf, origin: r.origin }) : undefined;
  }

  fromInbound(type: string, inbound: InboundModel): unknown {
    const r = this.rules(type).from.get(listenerKey({ address: inbound.address, port: inbound.port }));
    return r ? this.view(type, r) : undefined;
  }

  proxy(type: string): unknown {
    return this.view(type, this.rules(type).single);
  }

  fromInboundRules(type: string, inbound: InboundModel): ClientRules | undefined {
    const matched = this.rules(type).matched.byInbound.get(listenerKey({ address: inbound.address, port: inbound.port }));
    if (!matched || matched.policies.length === 0) return undefined;
    const traits = traitsOf(type);
    return this.shared('clients', type, matched.policies, () => ({
      rules: buildInboundRules(matched.policies, { ...traits.merge, isFromAsRules: traits.isFromAsRules }).rules.map((r) => ({ matches: r.matches, conf: r.conf })),
      subsets: buildLegacyFromRules(matched.policies, traits.merge).map((r) => ({ subset: r.subset, conf: r.conf[0] })),
    }));
  }

  /**
   * Outbound answers come from the type's `to` rules and single-item rule alone, which proxies
   * matched by the same policies share (rulesCache, emptied on every policy change, so a later
   * state of the policies has new objects): their identities are the key.
   */
  outboundKey(types: readonly string[]): string | undefined {
    if (!this.source.rulesCache) return undefined;
    let key = '';
    for (const type of types) {
      const r = this.rules(type);
      key += `${objectId(r.to)}.${objectId(r.single)},`;
    }
    return key;
  }

  private view(type: string, rule: Rule): unknown {
    const conf = rule.conf[0];
    if (conf === undefined) return undefined;
    const t = traitsOf(type).transform;
    if (!t || typeof conf !== 'object' || conf === null) return t ? t(conf) : conf;
    // The same object for the same rule, so what plugins make of it is keyed once (see Translator).
    let out = transformed.get(conf);
    if (out === undefined) transformed.set(conf, (out = t(conf)));
    return out;
  }

  /** `build()` once per distinct set of policies (by name: the cache is emptied on any policy change). */
  private shared<T>(kind: string, type: string, policies: readonly PolicyItem[], build: () => T): T {
    const cache = this.source.rulesCache;
    if (!cache) return build();
    const key = `${kind}\u0000${type}\u0000${policies.map((p) => p.name).join('\u0000')}`;
    let r = cache.get(key) as T | undefined;
    if (r === undefined) cache.set(key, (r = build()));
    return r;
  }

  private compute(type: string): TypeRules {
    const traits = traitsOf(type);
    const matched = matchedPolicies(type, this.dataplane, this.source.policies(type), this.source.selectionContext);
    // The rules depend on the matched policies alone: proxies selected by the same ones share them
    // (and so the very conf objects, which the translator keys its shared resources by).
    const to = this.shared('to', type, matched.policies, () =>
      buildLegacyToRules(matched.policies, {
        ...traits.merge,
        ...(traits.defaultOf ? { defaultOf: traits.defaultOf } : {}),
        ...(this.source.selectionContext.route ? { route: this.source.selectionContext.route } : {}),
      }),
    );
    const from = new Map<string, Rule>();
    for (const [key, { policies }] of matched.byInbound) {
      from.set(key, this.shared('from', type, policies, () => this.inboundRule(type, policies)));
    }
    const single = traits.singleItem ? this.shared('single', type, matched.policies, () => buildSingleItemRule(matched.policies, traits.merge)) : NO_RULE;
    return { matched, to, from, single };
  }

  private inboundRule(type: string, policies: readonly PolicyItem[]): Rule {
    const traits = traitsOf(type);
    {
      const inbound = buildInboundRules(policies, { ...traits.merge, isFromAsRules: traits.isFromAsRules });
      if (inbound.catchAll.conf.length > 0 || inbound.legacyFrom.length === 0) return inbound.catchAll;
      // from[] read as per-client subset rules (MeshFaultInjection, MeshTrafficPermission): the
      // rule that holds for every client.
      const all = computeSubsetRule(buildLegacyFromRules(policies, traits.merge), {});
      return all ? { conf: all.conf, origin: all.origin } : { conf: [], origin: [] };
    }
  }
}

/**
 * The policy types whose computed rules a change to a policy of `type` may change, or
 * `undefined` for every type: a MeshHTTPRoute, because `to[]` items of other types may target
 * one by name (and then its matches decide the rule).
 */
export function rulesAffectedBy(type: string): ReadonlySet<string> | undefined {
  return type === 'MeshHTTPRoute' ? undefined : new Set([type]);
}
