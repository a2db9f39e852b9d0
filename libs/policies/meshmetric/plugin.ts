import type { JsonObject } from '../../resources/validation.ts';
import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { TypeUrl } from '../../xds/protos.ts';
import { proxyPart } from '../core/proxy-part.ts';
import type { MeshMetricSpec } from './api.ts';
import { collectorCluster } from '../core/observability.ts';
import { dynamicConfig, otelBackendName, otelSocketName } from './dynamic-config.ts';

type Conf = MeshMetricSpec['default'];
const TYPE = 'MeshMetric';
/** The part holding what MeshMetric adds. */
export const PART_KIND = 'meshmetric';

export const HIJACKER_CLUSTER = '_kuma:metrics:hijacker';
export const DYNAMIC_CONFIG_LISTENER = '_kuma:dynamicconfig:observability';
const DYNAMIC_CONFIG_SOCKET = '/tmp/kuma-mesh-metric-config.sock';
const STATS_PATH = '/meshmetric';
const T = 'type.googleapis.com/envoy.extensions.filters.';

export const prometheusListenerName = (clientId: string | undefined): string => `_kuma:metrics:prometheus:${clientId ?? 'default-backend'}`;
/** Kuma's MetricsHijackerSocketName: where kuma-dp serves Envoy's stats, merged with the applications'. */
export const hijackerSocketName = (name: string, mesh: string): string => `/tmp/kuma-mh-${name}-${mesh}`.slice(0, 100) + '.sock';

/** What the plugin adds for the proxy. */
interface Applied {
  readonly address: string;
  readonly socket: string;
  readonly prometheus: readonly { readonly name: string; readonly port: number; readonly path: string }[];
  readonly config: string;
  /** OpenTelemetry backends: kuma-dp pushes to `socket`, Envoy forwards to the collector. */
  readonly otel: readonly { readonly name: string; readonly socket: string; readonly address: string; readonly port: number }[];
  readonly ipv6: boolean;
}

const DEFAULT_OTEL_GRPC_PORT = 4317;
export const otelResourceName = (backend: string): string => `_kuma:metrics:opentelemetry:${backend}`;
/** Kuma's SanitizeMetric, for stat names: anything but `[a-zA-Z0-9_-]` becomes `_`. */
const sanitize = (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, '_');

const ROUTER: JsonObject = { name: 'envoy.filters.http.router', typed_config: { '@type': `${T}http.router.v3.Router` } };
const GRPC_STATS: JsonObject = { name: 'envoy.filters.http.grpc_stats', typed_config: { '@type': `${T}http.grpc_stats.v3.FilterConfig`, emit_filter_state: true } };

const hcm = (statPrefix: string, routeConfig: JsonObject, internal: boolean, httpFilters: JsonObject[] = [ROUTER]): JsonObject => ({
  name: 'envoy.filters.network.http_connection_manager',
  typed_config: {
    '@type': `${T}network.http_connection_manager.v3.HttpConnectionManager`,
    stat_prefix: statPrefix,
    route_config: routeConfig,
    http_filters: httpFilters,
    ...(internal
      ? {
          internal_address_config: {
            cidr_ranges: [
              { address_prefix: '127.0.0.1', prefix_len: { value: 32 } },
              { address_prefix: '::1', prefix_len: { value: 128 } },
            ],
          },
        }
      : {}),
  },
});

/** `_kuma:metrics:prometheus:<clientId>`: Prometheus scrapes `path` on the Dataplane's address; kuma-dp answers through the hijacker. */
function prometheusListener(a: Applied, p: Applied['prometheus'][number]): Draft {
  const routeConfig = {
    validate_clusters: { value: false },
    virtual_hosts: [{ name: p.name, domains: ['*'], routes: [{ match: { prefix: p.path }, route: { cluster: HIJACKER_CLUSTER, prefix_rewrite: STATS_PATH } }] }],
  };
  return {
    typeUrl: TypeUrl.Listener,
    name: p.name,
    namedOnly: false,
    body: {
      name: p.name,
      address: { socket_address: { address: a.address, port_value: p.port } },
      enable_reuse_port: { value: false },
      traffic_direction: 'INBOUND',
      filter_chains: [{ filters: [hcm(p.name.replace(/:/g, '_'), routeConfig, true)] }],
    },
  };
}

function hijackerCluster(a: Applied): Draft {
  return {
    typeUrl: TypeUrl.Cluster,
    name: HIJACKER_CLUSTER,
    namedOnly: false,
    body: {
      name: HIJACKER_CLUSTER,
      type: 'STATIC',
      connect_timeout: { seconds: 5 },
      load_assignment: { cluster_name: HIJACKER_CLUSTER, endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: a.socket } } } }] }] },
    },
  };
}

function dynamicConfigListener(a: Applied): Draft {
  const routeConfig = {
    virtual_hosts: [{ name: DYNAMIC_CONFIG_LISTENER, domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: a.config } } }] }],
  };
  return {
    typeUrl: TypeUrl.Listener,
    name: DYNAMIC_CONFIG_LISTENER,
    namedOnly: false,
    body: { name: DYNAMIC_CONFIG_LISTENER, address: { pipe: { path: DYNAMIC_CONFIG_SOCKET } }, filter_chains: [{ filters: [hcm('_kuma_dynamicconfig_observability', routeConfig, true)] }] },
  };
}

/** An OpenTelemetry backend: the pipe listener kuma-dp pushes to, forwarding to the collector's cluster (HTTP/2). */
function otelDrafts(a: Applied, o: Applied['otel'][number]): Draft[] {
  const name = otelResourceName(o.name);
  const cluster = collectorCluster(name, { address: o.address, port: o.port }, { http2: true, ipv6Proxy: a.ipv6 });
  cluster.body['alt_stat_name'] = sanitize(name);
  const routeConfig = {
    validate_clusters: { value: false },
    virtual_hosts: [{ name, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: name } }] }],
  };
  const listener: Draft = {
    typeUrl: TypeUrl.Listener,
    name,
    namedOnly: false,
    body: { name, address: { pipe: { path: o.socket } }, filter_chains: [{ filters: [hcm(sanitize(name), routeConfig, true, [GRPC_STATS, ROUTER])] }] },
  };
  return [cluster, listener];
}

/**
 * MeshMetric (Kuma order 1500). Prometheus backends: per backend the listener
 * `_kuma:metrics:prometheus:<clientId|default-backend>` on the Dataplane's address and port,
 * routing `path` to kuma-dp's metrics hijacker (`_kuma:metrics:hijacker`, a Unix socket), and
 * the `_kuma:dynamicconfig:observability` listener that tells kuma-dp which applications to
 * scrape and which labels to add; OpenTelemetry backends: the pipe listener and cluster
 * `_kuma:metrics:opentelemetry:<endpoint>` kuma-dp pushes through. All in a part of its own. TLS: `Disabled`, and `ProvidedTLS` as Kuma serves it without certificate paths in
 * the proxy's metadata (unsecured); `ActiveMTLSBackend` backends are left out.
 */
export const meshMetricPlugin: TranslationPlugin = {
  name: 'MeshMetric',
  order: 1500,
  reads: [TYPE],
  configure: () => undefined,
  apply: () => {},
  parts(_built: readonly Part[], ctx: PluginContext): Part[] {
    const a = applied(ctx);
    if (!a) return [];
    const drafts: Draft[] = [];
    if (a.prometheus.length > 0) drafts.push(hijackerCluster(a));
    for (const p of a.prometheus) drafts.push(prometheusListener(a, p));
    for (const o of a.otel) drafts.push(...otelDrafts(a, o));
    drafts.push(dynamicConfigListener(a));
    return [proxyPart(PART_KIND, drafts)];
  },
};

/** What MeshMetric adds for this proxy, or nothing without backends. */
function applied(ctx: PluginContext): Applied | undefined {
  const conf = ctx.policies.proxy(TYPE) as Conf | undefined;
  const backends = conf?.backends ?? [];
  if (!conf || backends.length === 0) return undefined;
  const prometheus = backends.flatMap((b) =>
    b.type === 'Prometheus' && b.prometheus && b.prometheus.tls?.mode !== 'ActiveMTLSBackend'
      ? [{ name: prometheusListenerName(b.prometheus.clientId), port: b.prometheus.port, path: b.prometheus.path }]
      : [],
  );
  const otel = backends.flatMap((b) => {
    const endpoint = b.type === 'OpenTelemetry' ? b.openTelemetry?.endpoint : undefined;
    if (endpoint === undefined) return [];
    const name = otelBackendName(endpoint);
    const [address = '', port] = endpoint.split(':');
    return [{ name, socket: otelSocketName(name), address, port: port === undefined ? DEFAULT_OTEL_GRPC_PORT : Number.parseInt(port, 10) || 0 }];
  });
  return {
    address: ctx.dataplane.address,
    socket: hijackerSocketName(ctx.dataplane.name, ctx.mesh),
    prometheus,
    config: dynamicConfig(conf, ctx.dataplane),
    otel,
    ipv6: ctx.dataplane.address.includes(':'),
  };
}
