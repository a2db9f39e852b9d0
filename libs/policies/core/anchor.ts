import type { Part } from '../../xds/generate/part.ts';
import type { PluginContext } from '../../xds/generate/plugin.ts';

const isLoopback = (a: string) => a === 'localhost' || a.startsWith('127.') || a === '::1';

/**
 * The one Envoy-only part of a proxy that receives the resources a plugin adds for the proxy as
 * a whole (MeshMetric's Prometheus listener, MeshProxyPatch's added clusters and listeners): the
 * admin part (present unless the Dataplane's address is loopback), else the first inbound's,
 * else the transparent proxy's. A proxy with none of these gets no such resources.
 */
export function isAnchor(part: Part, ctx: PluginContext): boolean {
  if (!isLoopback(ctx.dataplane.address)) return part.kind === 'admin';
  const first = ctx.dataplane.inbounds.find((i) => i.state !== 'Ignored');
  if (first) return part.origin.kind === 'inbound' && part.origin.inbound.port === first.port && part.origin.inbound.address === first.address;
  return part.kind === 'tp';
}
