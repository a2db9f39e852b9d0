import { isIP } from 'node:net';
import type { JsonObject } from '../../resources/validation.ts';
import type { Draft } from '../../xds/generate/part.ts';
import { TypeUrl } from '../../xds/protos.ts';

/**
 * Building blocks the observability plugins (MeshAccessLog, MeshTrace, MeshMetric) share: the
 * typed configs of a listener they modify, and the clusters Kuma adds for collectors. Pure.
 */
const T = 'type.googleapis.com/envoy.extensions.';
export const HCM_TYPE = `${T}filters.network.http_connection_manager.v3.HttpConnectionManager`;
export const TCP_PROXY_TYPE = `${T}filters.network.tcp_proxy.v3.TcpProxy`;

const obj = (v: unknown): JsonObject | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined);
const list = (v: unknown): JsonObject[] => (Array.isArray(v) ? (v.filter((x) => obj(x)) as JsonObject[]) : []);

/** The Envoy listeners among a part's drafts (never the proxyless gRPC ones, which are served by name only). */
export const envoyListeners = (drafts: readonly Draft[]): Draft[] => drafts.filter((d) => d.typeUrl === TypeUrl.Listener && !d.namedOnly);

/** The network filters' typed configs of `type` in a listener's filter chains (Kuma's UpdateHTTPConnectionManager / UpdateTCPProxy). */
export function networkConfigs(listener: JsonObject, type: string): JsonObject[] {
  return list(listener['filter_chains']).flatMap((chain) =>
    list(chain['filters']).flatMap((f) => {
      const c = obj(f['typed_config']);
      return c && c['@type'] === type ? [c] : [];
    }),
  );
}

export interface CollectorEndpoint {
  readonly address: string;
  readonly port: number;
}

/**
 * Kuma's clusters for a collector (clusters.ProvidedEndpointCluster + DefaultTimeout, Http2 for
 * gRPC collectors): STATIC for an IP, STRICT_DNS (IPv4 lookups for an IPv4 proxy) for a name.
 */
export function collectorCluster(name: string, e: CollectorEndpoint, opts: { http2: boolean; ipv6Proxy: boolean }): Draft {
  const ip = isIP(e.address) !== 0;
  const body: JsonObject = {
    name,
    type: ip ? 'STATIC' : 'STRICT_DNS',
    ...(!ip && !opts.ipv6Proxy ? { dns_lookup_family: 'V4_ONLY' } : {}),
    connect_timeout: { seconds: 5 },
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } } }] }] },
    ...(opts.http2
      ? {
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': `${T}upstreams.http.v3.HttpProtocolOptions`,
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
        }
      : {}),
  };
  return { typeUrl: TypeUrl.Cluster, name, body, namedOnly: false };
}

/** Kuma's `IdentifyingName`: the service of the first inbound, or `unknown`. */
export function identifyingName(inbounds: readonly { readonly service: string }[]): string {
  const s = inbounds[0]?.service;
  return s ? s : 'unknown';
}
