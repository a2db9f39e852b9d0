import type { PluginContext } from '../../xds/generate/plugin.ts';
import type { CollectorEndpoint } from '../core/observability.ts';
import type { MeshAccessLogConf } from './api.ts';

export const TYPE = 'MeshAccessLog';
const DEFAULT_OTEL_GRPC_PORT = 4317;

/** Kuma's endpointForOtel: `host[:port]`, port 4317 by default. */
export function otelEndpoint(endpoint: string): CollectorEndpoint {
  const [address = '', port] = endpoint.split(':');
  return { address, port: port === undefined ? DEFAULT_OTEL_GRPC_PORT : Number.parseInt(port, 10) || 0 };
}

const key = (e: CollectorEndpoint) => `${e.address}:${e.port}`;
const byProxy = new WeakMap<object, Map<string, number>>();

/**
 * Kuma's EndpointAccumulator: each distinct OpenTelemetry collector of a proxy gets the cluster
 * `meshaccesslog:opentelemetry:<n>`, numbered in the order Kuma meets them (inbounds in the
 * Dataplane's order, then the transparent proxy's passthrough, then outbounds). Computed once per proxy translation (keyed by its policies).
 */
export function otelClusterName(ctx: PluginContext, e: CollectorEndpoint): string {
  const index = indexOf(ctx);
  let n = index.get(key(e));
  if (n === undefined) index.set(key(e), (n = index.size));
  return `meshaccesslog:opentelemetry:${n}`;
}

/** Every collector of the proxy with its cluster name, in Kuma's numbering. */
export function otelCollectors(ctx: PluginContext): [string, CollectorEndpoint][] {
  return [...indexOf(ctx)].map(([k, n]) => {
    const at = k.lastIndexOf(':');
    return [`meshaccesslog:opentelemetry:${n}`, { address: k.slice(0, at), port: Number(k.slice(at + 1)) }];
  });
}

function indexOf(ctx: PluginContext): Map<string, number> {
  let index = byProxy.get(ctx.policies);
  if (!index) {
    index = new Map();
    const add = (conf: unknown) => {
      for (const b of (conf as MeshAccessLogConf | undefined)?.backends ?? []) {
        if (b.openTelemetry?.endpoint === undefined) continue;
        const k = key(otelEndpoint(b.openTelemetry.endpoint));
        if (!index!.has(k)) index!.set(k, index!.size);
      }
    };
    for (const i of ctx.dataplane.inbounds) if (i.state !== 'Ignored') add(ctx.policies.fromInbound(TYPE, i));
    if (ctx.dataplane.transparentProxying) add(ctx.policies.toAnyService(TYPE));
    const services = [...ctx.dataplane.outbounds.map((o) => o.service), ...(ctx.dataplane.transparentProxying ? ctx.view.serviceNames() : [])];
    for (const s of new Set(services)) add(ctx.policies.toService(TYPE, s));
    byProxy.set(ctx.policies, index);
  }
  return index;
}
