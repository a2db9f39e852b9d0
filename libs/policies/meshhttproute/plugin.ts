import type { JsonObject } from '../../resources/validation.ts';
import { TypeUrl } from '../../xds/protos.ts';
import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { splitParts } from '../core/split.ts';
import type { MeshHTTPRouteConf } from './conf.ts';
import { envoyRoutes, grpcRoutes } from './envoy-routes.ts';
import { prepareRoutes, type PreparedRoutes, type RouteSpec } from './routes.ts';

export const MESH_HTTP_ROUTE = 'MeshHTTPRoute';

/** What the plugin applies to a part: the destination's routes, resolved. */
interface Applied {
  readonly routes: RouteSpec[];
}

const isHttp = (protocol: string): boolean => protocol === 'http' || protocol === 'http2' || protocol === 'grpc';

/** Per translation (a PluginContext lives for one proxy's translation): prepared routes by destination. */
const prepared = new WeakMap<PluginContext, Map<string, PreparedRoutes | undefined>>();

/** The prepared routes of an outbound part's destination, if a MeshHTTPRoute configures it (once per proxy and destination). */
function routesOf(part: Part, ctx: PluginContext): PreparedRoutes | undefined {
  if (part.origin.kind !== 'outbound' || !isHttp(part.origin.protocol)) return undefined;
  const service = part.origin.service;
  let byService = prepared.get(ctx);
  if (!byService) prepared.set(ctx, (byService = new Map()));
  if (byService.has(service)) return byService.get(service);
  const conf = ctx.policies.toService(MESH_HTTP_ROUTE, service) as MeshHTTPRouteConf | undefined;
  const routes = conf ? prepareRoutes(ctx.view, service, conf) : undefined;
  byService.set(service, routes);
  return routes;
}

/** The one virtual host of a route configuration draft (Kuma names it after the service). */
function virtualHost(d: Draft, field: 'route' | 'listener'): JsonObject | undefined {
  const routeConfig =
    field === 'route'
      ? d.body
      : ((d.body.api_listener as JsonObject | undefined)?.api_listener as JsonObject | undefined)?.route_config as JsonObject | undefined;
  return (routeConfig?.virtual_hosts as JsonObject[] | undefined)?.[0];
}

/**
 * MeshHTTPRoute (Kuma order 100): the routes of `outbound:<service>` for the service's HTTP
 * destinations, with weighted splits, and the proxyless gRPC client's inline routes (matches
 * and weighted clusters only). Adds the clusters and load assignments the splits need.
 */
export const meshHttpRoutePlugin: TranslationPlugin = {
  name: MESH_HTTP_ROUTE,
  order: 100,
  reads: [MESH_HTTP_ROUTE],
  configure(part, ctx): Applied | undefined {
    if (part.kind !== 'rds' && part.kind !== 'lds-api') return undefined;
    const routes = routesOf(part, ctx);
    return routes ? { routes: routes.routes } : undefined;
  },
  apply(drafts, conf, part) {
    const { routes } = conf as Applied;
    for (const d of drafts) {
      if (part.kind === 'rds' && d.typeUrl === TypeUrl.RouteConfiguration) {
        const vh = virtualHost(d, 'route');
        if (vh) vh.routes = routes.flatMap(envoyRoutes);
      } else if (part.kind === 'lds-api' && d.typeUrl === TypeUrl.Listener) {
        const vh = virtualHost(d, 'listener');
        if (vh) vh.routes = routes.flatMap(grpcRoutes);
      }
    }
  },
  parts(built, ctx) {
    const clusters = built.filter((p) => p.kind === 'rds').flatMap((p) => routesOf(p, ctx)?.clusters ?? []);
    return clusters.length ? splitParts(built, ctx, clusters) : [];
  },
};
