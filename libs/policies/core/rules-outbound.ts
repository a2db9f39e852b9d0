/**
 * Outbound ("to") rules (Kuma's rules/outbound: BuildRules, ResourceRules.Compute), keyed by destination.
 *
 * Kuma keys these by the KRI of real MeshService/MeshExternalService/MeshMultiZoneService resources. This project has no
 * such resources yet: destinations are `kuma.io/service` values. `ToTargetResolver` is the seam: the default one
 * resolves by service name; a KRI resolver can replace it when MeshService resources arrive, without touching the engine.
 *
 * NOTE: for outbounds that are plain `kuma.io/service` values (MeshService mode Disabled), Kuma 2.14 does not use these
 * resource rules but its legacy subset rules, which order entries differently; see rules-outbound-legacy.ts.
 */
import { LABEL, topTargetRef, type PolicyItem, type ToItem } from './matchable.ts';
import { mergeConfs, type MergeOptions } from './merge.ts';
import { originOfEntry, type Rule } from './rules-common.ts';
import { sortToEntries, type PolicyEntry } from './sort.ts';
import type { TargetRef } from './target-ref.ts';

/** A destination: a service and optionally one of its sections (a port, by name or number). */
export interface DestinationKey {
  readonly service: string;
  readonly section?: string;
}

/** What a `to[].targetRef` covers. */
export type ResolvedTarget =
  | { readonly kind: 'mesh' }
  | { readonly kind: 'destinations'; readonly destinations: readonly DestinationKey[] }
  | { readonly kind: 'route'; readonly route: string }
  | { readonly kind: 'unresolved'; readonly reason: string };

/** Resolves `to[].targetRef`s of `policy` to destinations. Must be pure and deterministic. */
export interface ToTargetResolver {
  resolve(ref: TargetRef, policy: PolicyItem): ResolvedTarget;
}

/** `name`, or the only label `kuma.io/display-name` (how Kuma's own testdata and synced policies name a resource). */
function nameOf(ref: TargetRef): string | undefined {
  if (ref.name) return ref.name;
  const labels = Object.entries(ref.labels ?? {}).filter(([k]) => k !== LABEL.mesh);
  return labels.length === 1 && labels[0]![0] === LABEL.displayName ? labels[0]![1] : undefined;
}

/**
 * The resolver for tag-based services: `Mesh` covers everything; `MeshService` named X (by `name`, or by the single
 * label `kuma.io/display-name: X`) covers the `kuma.io/service: X` service, `sectionName` narrowing it to that port;
 * `MeshHTTPRoute` named R (same naming) is addressed by route name. Other kinds, and selection by other labels, are
 * unresolved until real MeshService resources exist.
 */
export const serviceTagResolver: ToTargetResolver = {
  resolve(ref) {
    const name = nameOf(ref);
    switch (ref.kind) {
      case 'Mesh':
        return { kind: 'mesh' };
      case 'MeshService':
        if (!name) return { kind: 'unresolved', reason: 'MeshService by labels needs MeshService resources' };
        return { kind: 'destinations', destinations: [ref.sectionName ? { service: name, section: ref.sectionName } : { service: name }] };
      case 'MeshHTTPRoute':
        return name ? { kind: 'route', route: name } : { kind: 'unresolved', reason: 'MeshHTTPRoute by labels needs a route lookup' };
      default:
        return { kind: 'unresolved', reason: `${ref.kind} targets need ${ref.kind} resources` };
    }
  },
};

export interface OutboundRuleOptions extends MergeOptions {
  readonly resolver?: ToTargetResolver;
  /** The conf of a `to[]` item. Default: `item.default`. MeshHTTPRoute passes `{hostnames, rules}`. */
  readonly defaultOf?: (item: ToItem) => unknown;
}

export interface OutboundRules {
  /** The rule of entries targeting the whole mesh. */
  readonly mesh: Rule;
  /**
   * Kuma's ResourceRules.Compute for a destination: the rule for `(service, section)` if an entry targets that section,
   * else for `service` if an entry targets it, else `mesh`. A destination rule merges, in sort order, the Mesh entries,
   * the entries for the service without section and (for a section) those for that section. Results are cached.
   */
  rulesFor(service: string, section?: string): Rule;
  /** The rule for `to[]` items targeting the MeshHTTPRoute named `route` (merged after Mesh entries), or undefined when none does. */
  routeRulesFor(route: string): Rule | undefined;
  /** Policies whose TOP-LEVEL targetRef is a MeshHTTPRoute (excluded from the rules above, as in Kuma), keyed by route name. */
  readonly byTopLevelRoute: ReadonlyMap<string, Rule>;
  /** Destinations some entry names explicitly, sorted by service then section (section-less first). */
  readonly destinations: readonly DestinationKey[];
  /** Routes some `to[]` entry targets, sorted. */
  readonly routes: readonly string[];
  readonly warnings: readonly string[];
}

interface Resolved {
  readonly e: PolicyEntry<ToItem>;
  readonly target: ResolvedTarget;
}

/**
 * Builds the "to" rules from the policies matched for a dataplane (any order; sorted here with Kuma's outbound sort:
 * policy attributes, then the `to` targetRef kind and MeshService section, then name descending).
 */
export function buildOutboundRules(policies: readonly PolicyItem[], opts: OutboundRuleOptions = {}): OutboundRules {
  const resolver = opts.resolver ?? serviceTagResolver;
  const defaultOf = opts.defaultOf ?? ((i: ToItem) => i.default);
  const warnings: string[] = [];
  const entries: PolicyEntry<ToItem>[] = [];
  const topRoute = new Map<string, PolicyEntry<ToItem>[]>();
  for (const policy of policies) {
    const top = topTargetRef(policy);
    (policy.spec.to ?? []).forEach((entry, index) => {
      if (top.kind === 'MeshHTTPRoute') {
        const name = top.name ?? '';
        const list = topRoute.get(name) ?? [];
        list.push({ policy, entry, index });
        topRoute.set(name, list);
      } else entries.push({ policy, entry, index });
    });
  }
  const resolved: Resolved[] = sortToEntries(entries).map((e) => {
    const target = resolver.resolve(e.entry.targetRef, e.policy);
    if (target.kind === 'unresolved') warnings.push(`policy ${e.policy.type}/${e.policy.name} to[${e.index}]: ${target.reason}`);
    return { e, target };
  });

  const ruleOf = (list: readonly Resolved[]): Rule => {
    const withConf = list.filter((r) => defaultOf(r.e.entry) !== undefined);
    return { conf: mergeConfs(withConf.map((r) => defaultOf(r.e.entry)), opts), origin: withConf.map((r) => originOfEntry(r.e.policy, r.e.index)) };
  };
  const isMesh = (r: Resolved) => r.target.kind === 'mesh';
  const names = (r: Resolved, service: string, section: string | undefined) =>
    r.target.kind === 'destinations' && r.target.destinations.some((d) => d.service === service && d.section === section);

  const services = new Set<string>();
  const sections = new Set<string>();
  const routes = new Set<string>();
  for (const r of resolved) {
    if (r.target.kind === 'destinations')
      for (const d of r.target.destinations) {
        services.add(d.service);
        if (d.section !== undefined) sections.add(`${d.service}\u0000${d.section}`);
      }
    if (r.target.kind === 'route') routes.add(r.target.route);
  }

  const mesh = ruleOf(resolved.filter(isMesh));
  const cache = new Map<string, Rule>();
  const rulesFor = (service: string, section?: string): Rule => {
    const exact = section !== undefined && sections.has(`${service}\u0000${section}`) ? section : undefined;
    if (exact === undefined && !services.has(service)) return mesh;
    const key = `${service}\u0000${exact ?? ''}\u0000${exact === undefined ? 0 : 1}`;
    let rule = cache.get(key);
    if (!rule) {
      rule = ruleOf(resolved.filter((r) => isMesh(r) || names(r, service, undefined) || (exact !== undefined && names(r, service, exact))));
      cache.set(key, rule);
    }
    return rule;
  };
  const routeCache = new Map<string, Rule>();
  const routeRulesFor = (route: string): Rule | undefined => {
    if (!routes.has(route)) return undefined;
    let rule = routeCache.get(route);
    if (!rule) {
      rule = ruleOf(resolved.filter((r) => isMesh(r) || (r.target.kind === 'route' && r.target.route === route)));
      routeCache.set(route, rule);
    }
    return rule;
  };
  const byTopLevelRoute = new Map<string, Rule>();
  for (const [name, list] of topRoute) {
    byTopLevelRoute.set(name, ruleOf(sortToEntries(list).map((e) => ({ e, target: { kind: 'mesh' } as const }))));
  }
  const destinations: DestinationKey[] = [...services].sort().flatMap((service) => [
    { service },
    ...[...sections]
      .filter((k) => k.startsWith(`${service}\u0000`))
      .map((k) => k.slice(service.length + 1))
      .sort()
      .map((section) => ({ service, section })),
  ]);
  return { mesh, rulesFor, routeRulesFor, byTopLevelRoute, destinations, routes: [...routes].sort(), warnings };
}
