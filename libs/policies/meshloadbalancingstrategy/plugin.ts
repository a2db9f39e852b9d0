import type { DataplaneModel } from '../../resources/dataplane-model.ts';
import { ZONE_TAG } from '../../resources/tags.ts';
import type { JsonObject } from '../../resources/validation.ts';
import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { allRouteActions, clusters, loadAssignments } from '../core/drafts.ts';
import type { FailoverRule, LoadBalancer, MeshLoadBalancingStrategyConf } from './conf.ts';
import { configureLoadBalancer, grpcHashPolicies, hashPolicies } from './lb-policy.ts';
import { applyLocalityAwareness } from './locality.ts';

export const TYPE = 'MeshLoadBalancingStrategy';

type Applied =
  | { readonly kind: 'cluster'; readonly lb: LoadBalancer }
  | { readonly kind: 'endpoints'; readonly localZone: string; readonly failover?: readonly FailoverRule[] }
  | { readonly kind: 'routes'; readonly hashPolicies: readonly JsonObject[] };

/** The proxy's zone: its `kuma.io/zone` tag (Kuma: the zone of the control plane the proxy belongs to). */
function zoneOf(dp: DataplaneModel): string {
  for (const i of dp.inbounds) if (i.tags[ZONE_TAG]) return i.tags[ZONE_TAG];
  return dp.gateway?.tags[ZONE_TAG] ?? '';
}

/**
 * MeshLoadBalancingStrategy (Kuma plugin order 400): the cluster's load balancer, hash
 * policies on the routes (RingHash, Maglev), and locality-aware priorities in the service's
 * ClusterLoadAssignment. The last depends on the consumer's zone, so consumers in different
 * zones get different load assignment slots (the zone is part of the configuration).
 */
export const meshLoadBalancingStrategyPlugin: TranslationPlugin = {
  name: 'meshloadbalancingstrategy',
  order: 400,
  configure(part: Part, ctx: PluginContext): Applied | undefined {
    const o = part.origin;
    if (o.kind !== 'outbound') return undefined;
    const conf = ctx.policies.toService(TYPE, o.service) as MeshLoadBalancingStrategyConf | undefined;
    if (!conf) return undefined;
    switch (part.kind) {
      case 'cds':
        return conf.loadBalancer ? { kind: 'cluster', lb: conf.loadBalancer } : undefined;
      case 'eds':
        if (conf.localityAwareness?.disabled === true) return undefined;
        return { kind: 'endpoints', localZone: zoneOf(ctx.dataplane), ...(conf.localityAwareness?.crossZone?.failover ? { failover: conf.localityAwareness.crossZone.failover } : {}) };
      case 'rds': {
        const hp = hashPolicies(conf.loadBalancer);
        return hp.length > 0 ? { kind: 'routes', hashPolicies: hp } : undefined;
      }
      case 'lds-api': {
        const hp = grpcHashPolicies(conf.loadBalancer);
        return hp.length > 0 ? { kind: 'routes', hashPolicies: hp } : undefined;
      }
      default:
        return undefined;
    }
  },
  apply(drafts: Draft[], value: unknown): void {
    const a = value as Applied;
    if (a.kind === 'cluster') for (const c of clusters(drafts)) configureLoadBalancer(c.body, a.lb);
    else if (a.kind === 'endpoints') for (const d of loadAssignments(drafts)) applyLocalityAwareness(d.body, a.localZone, a.failover);
    else {
      for (const { action } of allRouteActions(drafts)) {
        action['hash_policy'] = [...((action['hash_policy'] as JsonObject[] | undefined) ?? []), ...a.hashPolicies.map((h) => structuredClone(h))];
      }
    }
  },
};
