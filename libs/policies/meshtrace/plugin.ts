import type { JsonObject } from '../../resources/validation.ts';
import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { collectorCluster, envoyListeners, HCM_TYPE, identifyingName, networkConfigs } from '../core/observability.ts';
import { proxyPart } from '../core/proxy-part.ts';
import type { MeshTraceSpec } from './api.ts';
import { collectorOf, type Collector } from './collector.ts';

export type MeshTraceConf = MeshTraceSpec['default'];
type Backend = NonNullable<MeshTraceConf['backends']>[number];

const TYPE = 'MeshTrace';
/** The part holding the collector's cluster. */
export const PART_KIND = 'meshtrace';
const TRACE = 'type.googleapis.com/envoy.config.trace.v3.';

/** What the plugin applies to one listener part. */
interface Applied {
  readonly conf: MeshTraceConf;
  readonly backend: Backend;
  readonly collector: Collector;
  /** Kuma's service name for spans (the proxy's identifying name). */
  readonly service: string;
  readonly direction: 'INBOUND' | 'OUTBOUND';
  /** The destination service of an outbound (Datadog's splitService). */
  readonly destination: string;
  readonly mesh: string;
  readonly gateway: boolean;
}

/** Kuma's envoyPercent: a number, or a decimal string (`"12.5"`), as Envoy's Percent. */
export function percent(v: number | string): JsonObject | undefined {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? { value: n } : undefined;
}

function customTags(a: Applied): JsonObject[] {
  const tags: JsonObject[] = (a.conf.tags ?? []).map((t) =>
    t.header
      ? { tag: t.name, request_header: { name: t.header.name, ...(t.header.default ? { default_value: t.header.default } : {}) } }
      : { tag: t.name, literal: { value: t.literal ?? '' } },
  );
  // Kuma tags every span with the mesh unless a tag of that name is the user's (it also adds
  // kuma.zone and kuma.workload from the control plane's zone, which plugins are not given yet).
  if (!tags.some((t) => t['tag'] === 'kuma.mesh')) tags.push({ tag: 'kuma.mesh', literal: { value: a.mesh } });
  return tags;
}

function provider(a: Applied): JsonObject {
  const b = a.backend;
  const cluster = a.collector.cluster;
  if (b.zipkin) {
    const url = new URL(b.zipkin.url);
    return {
      name: 'envoy.tracers.zipkin',
      typed_config: {
        '@type': `${TRACE}ZipkinConfig`,
        collector_cluster: cluster,
        collector_endpoint: url.pathname,
        // proto3 defaults (false) are left out, as Go's encoder leaves them out.
        ...(b.zipkin.traceId128bit ? { trace_id_128bit: true } : {}),
        collector_endpoint_version: b.zipkin.apiVersion === 'httpProto' ? 'HTTP_PROTO' : 'HTTP_JSON',
        shared_span_context: { value: b.zipkin.sharedSpanContext ?? false },
        collector_hostname: url.host,
        ...(a.gateway ? { split_spans_for_request: true } : {}),
      },
    };
  }
  if (b.datadog) {
    const split = b.datadog.splitService === true;
    const service = !split ? a.service : a.direction === 'INBOUND' ? `${a.service}_INBOUND` : `${a.service}_OUTBOUND_${a.destination}`;
    return { name: 'envoy.tracers.datadog', typed_config: { '@type': `${TRACE}DatadogConfig`, collector_cluster: cluster, service_name: service } };
  }
  return {
    name: 'envoy.tracers.opentelemetry',
    typed_config: { '@type': `${TRACE}OpenTelemetryConfig`, service_name: a.service, grpc_service: { envoy_grpc: { cluster_name: cluster } } },
  };
}

/** The HCM `tracing` block Kuma's Configurer builds. */
export function tracing(a: Applied): JsonObject {
  const s = a.conf.sampling;
  const t: JsonObject = { spawn_upstream_span: { value: a.gateway } };
  for (const [key, v] of [['overall_sampling', s?.overall], ['client_sampling', s?.client], ['random_sampling', s?.random]] as const) {
    const p = v === undefined ? undefined : percent(v);
    if (p) t[key] = p;
  }
  t['custom_tags'] = customTags(a);
  t['provider'] = provider(a);
  return t;
}

/**
 * MeshTrace (Kuma order 700): the tracing provider on every Envoy HCM of the proxy's inbound
 * and outbound listeners (Zipkin, Datadog or OpenTelemetry, with sampling and custom tags), and
 * the collector's cluster `meshtrace:<provider>`, in a part of its own. A single-item policy: one configuration for the whole proxy.
 * Envoy only: proxyless gRPC listeners (served by name) are left alone.
 */
export const meshTracePlugin: TranslationPlugin = {
  name: 'MeshTrace',
  order: 700,
  reads: [TYPE],
  configure(part: Part, ctx: PluginContext): Applied | undefined {
    let direction: Applied['direction'];
    let destination = '';
    if (part.kind === 'inbound' && part.origin.kind === 'inbound') direction = 'INBOUND';
    else if (part.kind === 'out-lds' && part.origin.kind === 'outbound') {
      direction = 'OUTBOUND';
      destination = part.origin.service;
    } else return undefined;
    const conf = ctx.policies.proxy(TYPE) as MeshTraceConf | undefined;
    const backend = conf?.backends?.[0];
    if (!conf || !backend) return undefined;
    let collector: Collector | undefined;
    try {
      collector = collectorOf(backend);
    } catch {
      return undefined; // an unparsable URL: validation rejects it, a stored one must not fail the proxy
    }
    if (!collector) return undefined; // a backendRef to a MeshOpenTelemetryBackend: not supported yet
    const gateway = ctx.dataplane.gateway !== undefined;
    const service = ctx.dataplane.gateway?.tags['kuma.io/service'] ?? identifyingName(ctx.dataplane.inbounds);
    return { conf, backend, collector, service, direction, destination, mesh: ctx.mesh, gateway };
  },
  apply(drafts: Draft[], conf: unknown): void {
    const a = conf as Applied;
    for (const l of envoyListeners(drafts)) for (const hcm of networkConfigs(l.body, HCM_TYPE)) hcm['tracing'] = tracing(a);
  },
  /** The collector's cluster, in a part of its own (Kuma adds it whenever a backend is configured). */
  parts(_built: readonly Part[], ctx: PluginContext): Part[] {
    const backend = (ctx.policies.proxy(TYPE) as MeshTraceConf | undefined)?.backends?.[0];
    if (!backend) return [];
    let c: Collector | undefined;
    try {
      c = collectorOf(backend);
    } catch {
      return [];
    }
    if (!c) return [];
    const cluster = collectorCluster(c.cluster, c.endpoint, { http2: c.http2, ipv6Proxy: ctx.dataplane.address.includes(':') });
    if (c.tls) cluster.body['transport_socket'] = c.tls;
    return [proxyPart(PART_KIND, [cluster])];
  },
};
