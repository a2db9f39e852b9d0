import { once } from '../core/once.ts';
import type { DataplaneModel } from '../../resources/dataplane-model.ts';
import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { clusters } from '../core/drafts.ts';
import type { MeshHealthCheckConf } from './conf.ts';
import { configureCluster, serializeTags } from './health-check.ts';

export const TYPE = 'MeshHealthCheck';

interface Applied {
  readonly conf: MeshHealthCheckConf;
  readonly protocol: string;
  /** The proxy's tags as Kuma sends them in x-kuma-tags on HTTP health checks (only when an HTTP check is configured). */
  readonly srcTags: string;
}

/** Kuma's Dataplane TagSet: every inbound's tags, values of a key collected. */
function tagSet(dp: DataplaneModel): Record<string, string[]> {
  const set: Record<string, Set<string>> = {};
  const tagsOf = dp.gateway ? [dp.gateway.tags] : dp.inbounds.map((i) => i.tags);
  for (const tags of tagsOf) for (const [k, v] of Object.entries(tags)) (set[k] ??= new Set()).add(v);
  return Object.fromEntries(Object.entries(set).map(([k, v]) => [k, [...v]]));
}

/**
 * MeshHealthCheck (Kuma plugin order 1200): active health checks on a service's outbound
 * cluster, the checker chosen by the service's protocol. Proxyless gRPC clients share the
 * cluster and ignore health_checks.
 */
export const meshHealthCheckPlugin: TranslationPlugin = {
  name: 'meshhealthcheck',
  order: 1200,
  reads: [TYPE],
  configure(part: Part, ctx: PluginContext): Applied | undefined {
    const o = part.origin;
    if (part.kind !== 'cds' || o.kind !== 'outbound') return undefined;
    const conf = ctx.policies.toService(TYPE, o.service) as MeshHealthCheckConf | undefined;
    if (!conf) return undefined;
    // Only an HTTP check carries the proxy's tags: other proxies configured alike share the cluster.
    const srcTags = conf.http && (o.protocol === 'http' || o.protocol === 'http2') ? serializeTags(tagSet(ctx.dataplane)) : '';
    const protocol = o.protocol;
    return once(conf, `${protocol}|${srcTags}`, () => ({ conf, protocol, srcTags }));
  },
  apply(drafts: Draft[], value: unknown): void {
    const a = value as Applied;
    for (const c of clusters(drafts)) configureCluster(c.body, a.conf, a.protocol, a.srcTags);
  },
};
