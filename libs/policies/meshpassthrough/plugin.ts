import type { JsonObject } from '../../resources/validation.ts';
import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { Names } from '../../xds/names.ts';
import { TypeUrl } from '../../xds/protos.ts';
import type { MeshPassthroughSpec } from './api.ts';
import { MatchType, orderedMatchers, prefixLen, type ChainMatch } from './matchers.ts';

type Conf = MeshPassthroughSpec['default'];
const TYPE = 'MeshPassthrough';
const T = 'type.googleapis.com/envoy.extensions.filters.';
export const NO_MATCH_MESSAGE = 'This response comes from Kuma Sidecar. No routes matched this domain - check configuration of your MeshPassthrough policy.\n';

/** What the plugin applies to the transparent proxy part. */
interface Applied {
  /** Drop the default passthrough cluster (Kuma: mode None, or Matched). */
  readonly removeDefault: boolean;
  /** The passthrough listener's filter chains for Matched mode with matches. */
  readonly chains?: readonly ChainMatch[];
}

/** Kuma's SanitizeMetric: anything but `[a-zA-Z0-9_-]` becomes `_`. */
const sanitize = (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, '_');
const portName = (port: number) => (port === 0 ? '*' : String(port));
export const clusterName = (value: string, port: number): string => `meshpassthrough_${value}_${portName(port)}`;
export const chainName = (name: string, protocol: string, port: number): string =>
  name === protocol ? `meshpassthrough_${name}_${portName(port)}` : `meshpassthrough_${protocol}_${name}_${portName(port)}`;

function addressMatch(c: ChainMatch): JsonObject {
  if (c.type === MatchType.IP || c.type === MatchType.IPV6) return { prefix_ranges: [{ address_prefix: c.value, prefix_len: { value: c.type === MatchType.IP ? 32 : 128 } }] };
  if (c.type === MatchType.CIDR || c.type === MatchType.CIDRV6) return { prefix_ranges: [{ address_prefix: network(c.value), prefix_len: { value: prefixLen(c.value) } }] };
  return {};
}

/** The network address of an IPv4 CIDR (Go's net.ParseCIDR, then IPNet.IP); IPv6 CIDRs as written. */
function network(cidr: string): string {
  const [ip = '', bits] = cidr.split('/');
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p))) return ip;
  const n = Number(bits);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  const v = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) & mask;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

const port = (c: ChainMatch): JsonObject => (c.port !== 0 ? { destination_port: { value: c.port } } : {});
const tcpProxy = (cluster: string): JsonObject => ({
  name: 'envoy.filters.network.tcp_proxy',
  typed_config: { '@type': `${T}network.tcp_proxy.v3.TcpProxy`, stat_prefix: sanitize(cluster), cluster },
});
const route = (cluster: string): JsonObject => ({ match: { prefix: '/' }, route: { cluster } });

/** One filter chain of the passthrough listener and the clusters it sends to (Kuma's FilterChainConfigurer, IPv4 listener). */
function chain(c: ChainMatch, clusters: Map<string, string>): JsonObject | undefined {
  if (c.type === MatchType.IPV6 || c.type === MatchType.CIDRV6) return undefined; // the IPv6 passthrough listener, which this control plane does not generate
  if (c.protocol === 'tcp' || c.protocol === 'tls') {
    const name = chainName(c.value, c.protocol, c.port);
    const cluster = clusterName(c.value, c.port);
    clusters.set(cluster, c.protocol);
    const sni = c.protocol === 'tls' && (c.type === MatchType.Domain || c.type === MatchType.WildcardDomain) ? { server_names: [c.value] } : {};
    return {
      name,
      filter_chain_match: { ...port(c), ...addressMatch(c), ...sni, transport_protocol: c.protocol === 'tls' ? 'tls' : 'raw_buffer' },
      filters: [tcpProxy(cluster)],
    };
  }
  const domains = c.type === MatchType.Domain || c.type === MatchType.WildcardDomain;
  const name = domains ? chainName(c.protocol, c.protocol, c.port) : chainName(c.value, c.protocol, c.port);
  let virtualHosts: JsonObject[];
  if (domains) {
    virtualHosts = c.routes.map((r) => {
      const cluster = clusterName(r.value, c.port);
      clusters.set(cluster, c.protocol);
      return { name: r.value, domains: [r.value, ...(c.port !== 0 ? [`${r.value}:${c.port}`] : [])], routes: [route(cluster)] };
    });
    virtualHosts.push({ name: 'no_match', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 503, body: { inline_string: NO_MATCH_MESSAGE } } }] });
  } else {
    const cluster = clusterName(c.value, c.port);
    clusters.set(cluster, c.protocol);
    virtualHosts = [{ name: c.value, domains: ['*'], routes: [route(cluster)] }];
  }
  return {
    name,
    filter_chain_match: { ...port(c), ...addressMatch(c), transport_protocol: 'raw_buffer', application_protocols: ['http/1.1', 'h2c'] },
    filters: [
      {
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': `${T}network.http_connection_manager.v3.HttpConnectionManager`,
          stat_prefix: sanitize(name),
          route_config: { name, virtual_hosts: virtualHosts },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': `${T}http.router.v3.Router` } }],
        },
      },
    ],
  };
}

/** Kuma's PassThroughCluster + DefaultTimeout (+ Http2 for http2 and grpc). */
function passthroughCluster(name: string, protocol: string): Draft {
  const http2 = protocol === 'http2' || protocol === 'grpc';
  return {
    typeUrl: TypeUrl.Cluster,
    name,
    namedOnly: false,
    body: {
      name,
      type: 'ORIGINAL_DST',
      lb_policy: 'CLUSTER_PROVIDED',
      connect_timeout: { seconds: 5 },
      ...(http2
        ? {
            typed_extension_protocol_options: {
              'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
                '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
                explicit_http_config: { http2_protocol_options: {} },
              },
            },
          }
        : {}),
    },
  };
}

const INSPECTORS: readonly JsonObject[] = [
  { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': `${T}listener.tls_inspector.v3.TlsInspector` } },
  { name: 'envoy.filters.listener.http_inspector', typed_config: { '@type': `${T}listener.http_inspector.v3.HttpInspector` } },
];

/**
 * MeshPassthrough (Kuma order 500), on the transparent proxy's outbound passthrough
 * (`outbound:passthrough:ipv4`): `None` drops the passthrough cluster (traffic to destinations
 * outside the mesh fails), `All` keeps it, `Matched` (the default) drops it and, for each
 * `appendMatch`, adds Kuma's filter chain (TCP and TLS by address or SNI, HTTP routed by Host)
 * and its ORIGINAL_DST cluster `meshpassthrough_<value>_<port|*>`, with the TLS and HTTP
 * inspectors. A port mixing http, http2 and grpc is Kuma's error: the policy is not applied.
 * Transparent-proxy only; IPv6 matches belong to the IPv6 passthrough listener, which this
 * control plane does not generate.
 */
export const meshPassthroughPlugin: TranslationPlugin = {
  name: 'MeshPassthrough',
  order: 500,
  reads: [TYPE],
  configure(part: Part, ctx: PluginContext): Applied | undefined {
    if (part.kind !== 'tp' || ctx.dataplane.gateway?.type === 'BUILTIN') return undefined;
    const conf = ctx.policies.proxy(TYPE) as Conf | undefined;
    if (!conf) return undefined;
    const mode = conf.passthroughMode ?? 'Matched';
    const networking = (ctx.view.mesh?.spec as { networking?: { outbound?: { passthrough?: boolean } } } | undefined)?.networking;
    const meshPassthrough = networking?.outbound?.passthrough ?? true;
    if (mode === 'All') return undefined; // the passthrough cluster is there (this control plane always generates it)
    if (mode === 'None') return meshPassthrough ? { removeDefault: true } : undefined;
    const matches = conf.appendMatch ?? [];
    if (matches.length === 0) return { removeDefault: true };
    const { chains, conflicts } = orderedMatchers(matches);
    if (conflicts.length > 0) return undefined;
    return { removeDefault: true, chains };
  },
  apply(drafts: Draft[], conf: unknown): void {
    const a = conf as Applied;
    const clusters = new Map<string, string>();
    if (a.chains) {
      const listener = drafts.find((d) => d.typeUrl === TypeUrl.Listener && d.name === Names.outboundPassthrough);
      if (listener) {
        listener.body['filter_chains'] = a.chains.flatMap((c) => chain(c, clusters) ?? []);
        const present = new Set(((listener.body['listener_filters'] as JsonObject[] | undefined) ?? []).map((f) => f['name']));
        listener.body['listener_filters'] = [...((listener.body['listener_filters'] as JsonObject[] | undefined) ?? []), ...INSPECTORS.filter((f) => !present.has(f['name']))];
      }
    }
    if (a.removeDefault) {
      const i = drafts.findIndex((d) => d.typeUrl === TypeUrl.Cluster && d.name === Names.outboundPassthrough);
      if (i !== -1) drafts.splice(i, 1);
    }
    for (const [name, protocol] of [...clusters].sort(([x], [y]) => (x < y ? -1 : 1))) drafts.push(passthroughCluster(name, protocol));
  },
};
