import type { JsonObject } from '../../resources/validation.ts';
import { jsonToStruct } from '../../xds/ads-codec.ts';
import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { Names } from '../../xds/names.ts';
import { collectorCluster, envoyListeners, HCM_TYPE, identifyingName, networkConfigs, TCP_PROXY_TYPE, type CollectorEndpoint } from '../core/observability.ts';
import { proxyPart } from '../core/proxy-part.ts';
import type { MeshAccessLogConf } from './api.ts';
import { DEFAULT_HTTP_FORMAT, DEFAULT_TCP_FORMAT, interpolate, jsonFields, type KumaValues } from './format.ts';
import { otelClusterName, otelCollectors, otelEndpoint, TYPE } from './otel-clusters.ts';

type Backend = NonNullable<MeshAccessLogConf['backends']>[number];

/** What the plugin applies to one part: the backends, Kuma's values for the listener, and collector clusters by endpoint. */
interface Applied {
  readonly backends: readonly Backend[];
  readonly values: KumaValues;
  readonly socketPath: string;
  readonly otel: readonly { readonly endpoint: string; readonly cluster: string; readonly at: CollectorEndpoint }[];
}

const T = 'type.googleapis.com/envoy.extensions.access_loggers.';
/** The part holding the collectors' clusters. */
export const PART_KIND = 'meshaccesslog';

/** Kuma's AccessLogSocketName: where kuma-dp listens for a TCP backend's lines (trimmed to fit a Unix socket path). */
export const accessLogSocketName = (name: string, mesh: string): string => `/tmp/kuma-al-${name}-${mesh}`.slice(0, 100) + '.sock';

function fileLog(logFormat: JsonObject, path: string): JsonObject {
  return { name: 'envoy.access_loggers.file', typed_config: { '@type': `${T}file.v3.FileAccessLog`, path, log_format: logFormat } };
}

/**
 * A google.protobuf.Struct in protobufjs' form: nested in an Any, the encoder does not map
 * plain JSON objects to Struct (only top-level Struct fields get that mapping).
 */
const struct = (o: JsonObject): JsonObject => jsonToStruct(o) as JsonObject;

const withOmit = (f: JsonObject, omit: boolean | undefined): JsonObject => (omit ? { ...f, omit_empty_values: true } : f);

/** One backend's AccessLog entry, as Kuma's Configurer builds it for a listener whose default format is `def`. */
export function accessLog(b: Backend, a: Applied, def: string): JsonObject | undefined {
  const v = a.values;
  if (b.file) {
    const f = b.file.format;
    if (f?.json !== undefined) return fileLog(withOmit({ json_format: struct(jsonFields(f, v)) }, f.omitEmptyValues), b.file.path);
    const text = interpolate(`${f?.plain ?? def}\n`, v);
    return fileLog(withOmit({ text_format_source: { inline_string: text } }, f?.omitEmptyValues), b.file.path);
  }
  if (b.tcp) {
    const f = b.tcp.format;
    const message = f?.json !== undefined ? jsonFields(f, v) : interpolate(`${f?.plain ?? def}\n`, v);
    return fileLog(withOmit({ json_format: struct({ address: b.tcp.address, message }) }, f?.omitEmptyValues), a.socketPath);
  }
  if (b.openTelemetry?.endpoint !== undefined) {
    const otel = b.openTelemetry;
    const cluster = a.otel.find((o) => o.endpoint === otel.endpoint)!.cluster;
    return {
      name: 'envoy.access_loggers.open_telemetry',
      typed_config: {
        '@type': `${T}open_telemetry.v3.OpenTelemetryAccessLogConfig`,
        common_config: { log_name: 'MeshAccessLog', transport_api_version: 'V3', grpc_service: { envoy_grpc: { cluster_name: cluster } } },
        body: otelBody(otel.body, v, def),
        attributes: { values: (otel.attributes ?? []).filter((kv) => typeof kv.key === 'string' && typeof kv.value === 'string').map((kv) => ({ key: kv.key, value: { string_value: kv.value } })) },
      },
    };
  }
  return undefined; // a backendRef to a MeshOpenTelemetryBackend: not supported yet
}

/** Kuma reads `body` as an OTLP AnyValue (interpolating its strings); anything else becomes a string body. */
function otelBody(body: unknown, v: KumaValues, def: string): JsonObject {
  if (body === undefined) return { string_value: interpolate(def, v) };
  const any = anyValue(body, v);
  return any ?? { string_value: interpolate(typeof body === 'string' ? body : JSON.stringify(body), v) };
}

function anyValue(x: unknown, v: KumaValues): JsonObject | undefined {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return undefined;
  const o = x as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1) return undefined;
  const k = keys[0]!;
  const val = o[k];
  switch (k) {
    case 'stringValue':
      return typeof val === 'string' ? { string_value: interpolate(val, v) } : undefined;
    case 'boolValue':
      return typeof val === 'boolean' ? { bool_value: val } : undefined;
    case 'intValue':
      return typeof val === 'number' || typeof val === 'string' ? { int_value: Number(val) } : undefined;
    case 'doubleValue':
      return typeof val === 'number' ? { double_value: val } : undefined;
    case 'arrayValue': {
      const values = (val as { values?: unknown[] } | null)?.values ?? [];
      const mapped = Array.isArray(values) ? values.map((e) => anyValue(e, v)) : [undefined];
      return mapped.every((m) => m) ? { array_value: { values: mapped as JsonObject[] } } : undefined;
    }
    case 'kvlistValue': {
      const values = (val as { values?: unknown[] } | null)?.values ?? [];
      if (!Array.isArray(values)) return undefined;
      const out: JsonObject[] = [];
      for (const e of values) {
        const kv = e as { key?: unknown; value?: unknown } | null;
        const inner = kv && typeof kv.key === 'string' ? anyValue(kv.value, v) : undefined;
        if (!inner) return undefined;
        out.push({ key: interpolate(kv!.key as string, v), value: inner });
      }
      return { kvlist_value: { values: out } };
    }
    default:
      return undefined;
  }
}

function sourceService(ctx: PluginContext): string {
  const gw = ctx.dataplane.gateway?.tags['kuma.io/service'];
  return gw ?? identifyingName(ctx.dataplane.inbounds);
}

/**
 * MeshAccessLog (Kuma order 600): access loggers on the outbound listeners (the `to` rules of
 * their service), inbound listeners (the `from`/`rules` of the inbound) and the transparent
 * proxy's outbound passthrough (the Mesh-wide `to`, destination `external`). HCMs get Kuma's HTTP
 * default format, TCP proxies its network one; `%KUMA_*%` placeholders are resolved here as Kuma
 * resolves them. OpenTelemetry backends add Kuma's collector cluster
 * (`meshaccesslog:opentelemetry:<n>`), in a part of its own. Envoy only: proxyless gRPC
 * listeners (served by name) are left alone.
 */
export const meshAccessLogPlugin: TranslationPlugin = {
  name: 'MeshAccessLog',
  order: 600,
  reads: [TYPE],
  configure(part: Part, ctx: PluginContext): Applied | undefined {
    let conf: MeshAccessLogConf | undefined;
    let values: KumaValues;
    const base = { mesh: ctx.mesh, sourceIp: ctx.dataplane.address };
    if (part.kind === 'out-lds' && part.origin.kind === 'outbound') {
      conf = ctx.policies.toService(TYPE, part.origin.service) as MeshAccessLogConf | undefined;
      values = { ...base, sourceService: sourceService(ctx), destinationService: part.origin.service, direction: 'OUTBOUND' };
    } else if (part.kind === 'inbound' && part.origin.kind === 'inbound') {
      conf = ctx.policies.fromInbound(TYPE, part.origin.inbound) as MeshAccessLogConf | undefined;
      values = { ...base, sourceService: 'unknown', destinationService: part.origin.inbound.service || 'unknown', direction: 'INBOUND' };
    } else if (part.kind === 'tp') {
      // Kuma logs passthrough traffic with the Mesh-wide `to` configuration (its RootContext),
      // to destination "external". Asking for a destination no service can be named ('')
      // gives exactly the entries that target the whole Mesh.
      conf = ctx.policies.toAnyService(TYPE) as MeshAccessLogConf | undefined;
      values = { ...base, sourceService: sourceService(ctx), destinationService: 'external', direction: 'OUTBOUND' };
    } else return undefined;
    const backends = conf?.backends ?? [];
    if (backends.length === 0) return undefined;
    const otel = [
      ...new Set(backends.flatMap((b) => (b.openTelemetry?.endpoint !== undefined ? [b.openTelemetry.endpoint] : []))),
    ].map((endpoint) => {
      const at = otelEndpoint(endpoint);
      return { endpoint, at, cluster: otelClusterName(ctx, at) };
    });
    return { backends, values, socketPath: accessLogSocketName(ctx.dataplane.name, ctx.mesh), otel };
  },
  apply(drafts: Draft[], conf: unknown, part: Part): void {
    const a = conf as Applied;
    for (const l of envoyListeners(drafts)) {
      // The transparent proxy's part: only its outbound passthrough listener (Kuma's Ipv4Passthrough).
      if (part.kind === 'tp' && l.name !== Names.outboundPassthrough) continue;
      for (const [type, def] of [[HCM_TYPE, DEFAULT_HTTP_FORMAT], [TCP_PROXY_TYPE, DEFAULT_TCP_FORMAT]] as const) {
        for (const c of networkConfigs(l.body, type)) {
          const logs = a.backends.flatMap((b) => accessLog(b, a, def) ?? []);
          c['access_log'] = [...((c['access_log'] as JsonObject[] | undefined) ?? []), ...logs];
        }
      }
    }
  },
  /** The collectors' clusters, in a part of its own. */
  parts(_built: readonly Part[], ctx: PluginContext): Part[] {
    const ipv6Proxy = ctx.dataplane.address.includes(':');
    const clusters = otelCollectors(ctx).map(([name, at]) => collectorCluster(name, at, { http2: true, ipv6Proxy }));
    return clusters.length === 0 ? [] : [proxyPart(PART_KIND, clusters)];
  },
};
