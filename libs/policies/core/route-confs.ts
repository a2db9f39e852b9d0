import { LRUCache } from 'lru-cache';
import type { Part } from '../../xds/generate/part.ts';
import type { PluginContext } from '../../xds/generate/plugin.ts';
import { routeNames } from './drafts.ts';
import { once } from './once.ts';

/**
 * What a plugin configures on the routes of a part to `service`: the service's configuration,
 * and the configurations of `to[]` items that target a MeshHTTPRoute by the name of one of the
 * part's routes (Kuma computes per-route rules with the route's name as the matching key).
 */
export interface RouteScoped<C> {
  readonly to?: C;
  readonly routes?: Readonly<Record<string, C>>;
}

/**
 * Route names per part, by the part's kind and inputs (which, by the Part contract, determine
 * what it builds): building a part's drafts once per distinct part instead of once per proxy
 * and plugin keeps per-route lookups cheap for proxies that share parts.
 */
const NAMES = new LRUCache<string, readonly string[]>({ max: 10_000 });
function routeNamesOf(part: Part): readonly string[] {
  const key = `${part.kind}\u0000${JSON.stringify(part.inputs)}`;
  let names = NAMES.get(key);
  if (!names) NAMES.set(key, (names = routeNames(part.build())));
  return names;
}

export function routeScoped<C>(type: string, service: string, part: Part, ctx: PluginContext): RouteScoped<C> | undefined {
  const to = ctx.policies.toService(type, service) as C | undefined;
  const routes: Record<string, C> = {};
  if (ctx.policies.toRoute) {
    for (const name of routeNamesOf(part)) {
      const c = ctx.policies.toRoute(type, service, name) as C | undefined;
      if (c !== undefined) routes[name] = c;
    }
  }
  if (to === undefined && Object.keys(routes).length === 0) return undefined;
  // Only the service's configuration: the same value for every part and proxy it is shared with.
  if (Object.keys(routes).length === 0 && typeof to === 'object' && to !== null) return once(to, 'to', () => ({ to }));
  return { ...(to !== undefined ? { to } : {}), ...(Object.keys(routes).length > 0 ? { routes } : {}) };
}

/** The configuration of a route: its own if a policy targets it, else the service's. */
export const forRoute = <C>(scoped: RouteScoped<C>, name: unknown): C | undefined =>
  (typeof name === 'string' ? scoped.routes?.[name] : undefined) ?? scoped.to;
