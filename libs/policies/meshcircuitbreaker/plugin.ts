import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { clusters } from '../core/drafts.ts';
import type { MeshCircuitBreakerConf } from './conf.ts';
import { configureCluster } from './configurer.ts';

export const TYPE = 'MeshCircuitBreaker';

/**
 * MeshCircuitBreaker (Kuma plugin order 1300): connection limits and outlier detection on the
 * outbound cluster of a service (`to`) and on the local cluster of an inbound (`from`/`rules`).
 * The outbound cluster is shared with proxyless gRPC clients, which honour outlier_detection.
 */
export const meshCircuitBreakerPlugin: TranslationPlugin = {
  name: 'meshcircuitbreaker',
  order: 1300,
  reads: [TYPE],
  outboundPure: true,
  configure(part: Part, ctx: PluginContext): MeshCircuitBreakerConf | undefined {
    const o = part.origin;
    if (part.kind === 'inbound' && o.kind === 'inbound') return ctx.policies.fromInbound(TYPE, o.inbound) as MeshCircuitBreakerConf | undefined;
    if (part.kind === 'cds' && o.kind === 'outbound') return ctx.policies.toService(TYPE, o.service) as MeshCircuitBreakerConf | undefined;
    return undefined;
  },
  apply(drafts: Draft[], conf: unknown): void {
    for (const c of clusters(drafts)) configureCluster(c.body, conf as MeshCircuitBreakerConf);
  },
};
