import type { JsonObject } from '../../resources/validation.ts';
import type { Draft } from '../../xds/generate/part.ts';
import { TypeUrl } from '../../xds/protos.ts';

/**
 * Navigation in the drafts of a part, for plugins: the typed configs they modify, found by
 * type (Kuma's UpdateHTTPConnectionManager / UpdateTCPProxy), never by position.
 */
const T = 'type.googleapis.com/envoy.extensions.';
export const HCM = `${T}filters.network.http_connection_manager.v3.HttpConnectionManager`;
export const TCP_PROXY = `${T}filters.network.tcp_proxy.v3.TcpProxy`;
export const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

const obj = (v: unknown): JsonObject | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined);
const list = (v: unknown): JsonObject[] => (Array.isArray(v) ? (v.filter((x) => obj(x)) as JsonObject[]) : []);

export const listeners = (drafts: readonly Draft[]): Draft[] => drafts.filter((d) => d.typeUrl === TypeUrl.Listener);
export const clusters = (drafts: readonly Draft[]): Draft[] => drafts.filter((d) => d.typeUrl === TypeUrl.Cluster);
export const routeConfigs = (drafts: readonly Draft[]): Draft[] => drafts.filter((d) => d.typeUrl === TypeUrl.RouteConfiguration);
export const loadAssignments = (drafts: readonly Draft[]): Draft[] => drafts.filter((d) => d.typeUrl === TypeUrl.ClusterLoadAssignment);

/** The network filters' typed configs of `type` in a listener body (its filter chains, or its api_listener). */
export function networkConfigs(listener: JsonObject, type: string): JsonObject[] {
  const out: JsonObject[] = [];
  const api = obj(obj(listener['api_listener'])?.['api_listener']);
  if (api && api['@type'] === type) out.push(api);
  for (const chain of list(listener['filter_chains'])) {
    for (const f of list(chain['filters'])) {
      const c = obj(f['typed_config']);
      if (c && c['@type'] === type) out.push(c);
    }
  }
  return out;
}

/** Every route of a route configuration body. */
export const routesOf = (routeConfig: JsonObject | undefined): JsonObject[] => list(routeConfig?.['virtual_hosts']).flatMap((vh) => list(vh['routes']));

/** The RouteAction of a route (`undefined` for redirects, direct responses, non-forwarding). */
export const routeAction = (route: JsonObject): JsonObject | undefined => obj(route['route']);

/** The route actions of inline route configs (HCMs of a listener) and of RDS route configurations among `drafts`. */
export function allRouteActions(drafts: readonly Draft[]): { route: JsonObject; action: JsonObject }[] {
  const configs = [
    ...routeConfigs(drafts).map((d) => d.body),
    ...listeners(drafts).flatMap((l) => networkConfigs(l.body, HCM).map((h) => obj(h['route_config']))),
  ];
  return configs.flatMap((rc) =>
    routesOf(rc).flatMap((route) => {
      const action = routeAction(route);
      return action ? [{ route, action }] : [];
    }),
  );
}

/** Route names that a per-route configuration could address (routes without a name have none). */
export function routeNames(drafts: readonly Draft[]): string[] {
  return [...new Set(allRouteActions(drafts).flatMap(({ route }) => (typeof route['name'] === 'string' ? [route['name']] : [])))];
}

/**
 * The cluster's upstream HttpProtocolOptions (Kuma's UpdateCommonHttpProtocolOptions): created
 * with an explicit HTTP/1 config if the cluster has none yet (Kuma's golden files show the options
 * without one, but Envoy requires `upstream_protocol_options`: a PGV `required` oneof).
 */
export function httpProtocolOptions(cluster: JsonObject): JsonObject {
  const all = (obj(cluster['typed_extension_protocol_options']) ?? {}) as JsonObject;
  cluster['typed_extension_protocol_options'] = all;
  let opts = obj(all[HTTP_PROTOCOL_OPTIONS_KEY]);
  if (!opts) {
    opts = { '@type': `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS_KEY}`, explicit_http_config: { http_protocol_options: {} } };
    all[HTTP_PROTOCOL_OPTIONS_KEY] = opts;
  }
  return opts;
}

/** A nested object, created if missing. */
export function child(o: JsonObject, key: string): JsonObject {
  let c = obj(o[key]);
  if (!c) {
    c = {};
    o[key] = c;
  }
  return c;
}
