import type { JsonObject } from '../../resources/validation.ts';

/** Envoy filter and address building blocks shared by the configurers. */
const T = 'type.googleapis.com/';
export const HCM_TYPE = `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
export const TCP_PROXY_TYPE = `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`;
export const ROUTER_TYPE = `${T}envoy.extensions.filters.http.router.v3.Router`;
export const HTTP_OPTIONS_TYPE = `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`;
export const ORIGINAL_DST_TYPE = `${T}envoy.extensions.filters.listener.original_dst.v3.OriginalDst`;

export const socketAddress = (address: string, port: number): JsonObject => ({ socket_address: { address, port_value: port } });

export const ADS_CONFIG_SOURCE: JsonObject = { ads: {}, resource_api_version: 'V3' };

export const routerFilter: JsonObject = { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE } };

/** The HttpConnectionManager config (without filter envelope), with either an inline route config or RDS. */
export function hcmConfig(opts: { statPrefix: string; routeConfig?: JsonObject; rds?: string; http2?: boolean }): JsonObject {
  return {
    '@type': HCM_TYPE,
    stat_prefix: opts.statPrefix,
    codec_type: 'AUTO',
    ...(opts.http2 ? { http2_protocol_options: {} } : {}),
    ...(opts.rds !== undefined ? { rds: { route_config_name: opts.rds, config_source: ADS_CONFIG_SOURCE } } : { route_config: opts.routeConfig }),
    http_filters: [routerFilter],
  };
}

export const hcmFilter = (config: JsonObject): JsonObject => ({ name: 'envoy.filters.network.http_connection_manager', typed_config: config });

export const tcpProxyFilter = (statPrefix: string, cluster: string): JsonObject => ({
  name: 'envoy.filters.network.tcp_proxy',
  typed_config: { '@type': TCP_PROXY_TYPE, stat_prefix: statPrefix, cluster },
});

/** A route configuration sending everything to one cluster. */
export function singleClusterRoutes(name: string, vhost: string, cluster: string): JsonObject {
  return {
    name,
    virtual_hosts: [{ name: vhost, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster, timeout: { seconds: 15 } } }] }],
  };
}

/** Stat prefixes may not contain ':' in Envoy's conventions; Kuma replaces it with '_'. */
export const statPrefix = (s: string): string => s.replace(/[:.]/g, '_');

export const isHttp = (protocol: string): boolean => protocol === 'http' || protocol === 'http2' || protocol === 'grpc';
export const isHttp2 = (protocol: string): boolean => protocol === 'http2' || protocol === 'grpc';

/** Upstream HTTP/2 for gRPC and HTTP/2 services. */
export const http2UpstreamOptions = (): JsonObject => ({
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': HTTP_OPTIONS_TYPE, explicit_http_config: { http2_protocol_options: {} } },
});
