import type { JsonObject } from '../../resources/validation.ts';
import type { Draft } from '../../xds/generate/part.ts';
import { child, clusters, HCM, httpProtocolOptions, listeners, networkConfigs, routeConfigs, routesOf, routeAction, TCP_PROXY } from '../core/drafts.ts';
import { durationOr } from '../core/proto-duration.ts';
import { DEFAULTS, type MeshTimeoutConf } from './conf.ts';

const isHttpFamily = (p: string): boolean => p === 'http' || p === 'http2' || p === 'grpc';

/**
 * Kuma's ClusterConfigurer: connect timeout on every cluster, and for http/http2 (not grpc) the
 * upstream idle timeout, max stream and connection duration in HttpProtocolOptions.
 */
export function configureCluster(cluster: JsonObject, conf: MeshTimeoutConf, protocol: string): void {
  cluster['connect_timeout'] = durationOr(conf.connectionTimeout, DEFAULTS.connectTimeout);
  if (protocol !== 'http' && protocol !== 'http2') return;
  const common = child(httpProtocolOptions(cluster), 'common_http_protocol_options');
  common['idle_timeout'] = durationOr(conf.idleTimeout, DEFAULTS.idleTimeout);
  common['max_stream_duration'] = durationOr(conf.http?.maxStreamDuration, DEFAULTS.maxStreamDuration);
  common['max_connection_duration'] = durationOr(conf.http?.maxConnectionDuration, DEFAULTS.maxConnectionDuration);
}

/** Keeps the fields of `from` that are set. */
function pick<T extends object>(from: T | undefined, keys: readonly (keyof T)[]): Partial<T> | undefined {
  if (!from) return undefined;
  let out: Partial<T> | undefined;
  for (const k of keys) if (from[k] !== undefined) (out ??= {} as Partial<T>)[k] = from[k];
  return out;
}

/**
 * What configureCluster reads of `conf` for a cluster of `protocol`, and nothing else: a change
 * of another field (a request timeout) then leaves clusters as they are, built and served.
 */
export function clusterConf(conf: MeshTimeoutConf, protocol: string): MeshTimeoutConf {
  if (protocol !== 'http' && protocol !== 'http2') return pick(conf, ['connectionTimeout']) ?? {};
  const http = pick(conf.http, ['maxStreamDuration', 'maxConnectionDuration']);
  return { ...pick(conf, ['connectionTimeout', 'idleTimeout']), ...(http ? { http } : {}) };
}

/**
 * What configureListener reads of `conf` for an outbound listener of `protocol` (its routes are
 * served over RDS, never inline): the request headers timeout, or the TCP idle timeout.
 */
export function outboundListenerConf(conf: MeshTimeoutConf, protocol: string): MeshTimeoutConf {
  if (!isHttpFamily(protocol)) return pick(conf, ['idleTimeout']) ?? {};
  const http = pick(conf.http, ['requestHeadersTimeout']);
  return http ? { http } : {};
}

/** Kuma's ConfigureRouteAction: request timeout, and the stream idle timeout per route. */
export function configureRouteAction(action: JsonObject, http: MeshTimeoutConf['http']): void {
  action['timeout'] = durationOr(http?.requestTimeout, DEFAULTS.requestTimeout);
  if (http?.streamIdleTimeout !== undefined) action['idle_timeout'] = durationOr(http.streamIdleTimeout, DEFAULTS.streamIdleTimeout);
  else if (action['idle_timeout'] === undefined) action['idle_timeout'] = durationOr(undefined, DEFAULTS.streamIdleTimeout);
}

/**
 * Kuma's ListenerConfigurer: HTTP listeners get the request headers timeout, no connection idle
 * timeout on the HCM (MeshTimeout sets it on the cluster) and per-route timeouts on an inline
 * route config; TCP listeners get the TCP proxy idle timeout.
 */
export function configureListener(listener: JsonObject, conf: MeshTimeoutConf | undefined, protocol: string, routeConf?: (routeName: unknown) => MeshTimeoutConf | undefined): void {
  if (isHttpFamily(protocol)) {
    for (const hcm of networkConfigs(listener, HCM)) {
      for (const route of routesOf(hcm['route_config'] as JsonObject | undefined)) {
        const c = routeConf?.(route['name']) ?? conf;
        const action = routeAction(route);
        if (c && action) configureRouteAction(action, c.http);
      }
      if (conf) hcm['request_headers_timeout'] = durationOr(conf.http?.requestHeadersTimeout, DEFAULTS.requestHeadersTimeout);
      child(hcm, 'common_http_protocol_options')['idle_timeout'] = { seconds: 0 };
    }
  } else {
    for (const tcp of networkConfigs(listener, TCP_PROXY)) if (conf) tcp['idle_timeout'] = durationOr(conf.idleTimeout, DEFAULTS.idleTimeout);
  }
}

/** Route timeouts on RDS route configurations (outbound HTTP: Kuma's are inline, ours are served over RDS). */
export function configureRouteConfigs(drafts: readonly Draft[], conf: MeshTimeoutConf | undefined, routeConf: (routeName: unknown) => MeshTimeoutConf | undefined): void {
  for (const rc of routeConfigs(drafts)) {
    for (const route of routesOf(rc.body)) {
      const c = routeConf(route['name']) ?? conf;
      const action = routeAction(route);
      if (c && action) configureRouteAction(action, c.http);
    }
  }
}

export const clusterBodies = (drafts: readonly Draft[]): JsonObject[] => clusters(drafts).map((d) => d.body);
export const listenerBodies = (drafts: readonly Draft[], namedOnly: boolean): JsonObject[] => listeners(drafts).filter((d) => d.namedOnly === namedOnly).map((d) => d.body);
