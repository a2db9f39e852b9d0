import type { DataplaneModel } from '../../resources/dataplane-model.ts';
import { ZONE_TAG } from '../../resources/tags.ts';
import type { JsonObject } from '../../resources/validation.ts';
import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { allRouteActions, clusters, loadAssignments } from '../core/drafts.ts';
import type { FailoverRule, LoadBalancer, MeshLoadBalancingStrategyConf } from './conf.ts';
import { once } from '../core/once.ts';
import { forRoute, routeScoped, type RouteScoped } from '../core/route-confs.ts';
import { configureLoadBalancer, grpcHashPolicies, hashPolicies, hashPoliciesOf } from './lb-policy.ts';
import { applyLocalityAwareness, overprovisioningFactor } from './locality.ts';

export const TYPE = 'MeshLoadBalancingStrategy';

type Applied =
  | { readonly kind: 'cluster'; readonly lb: LoadBalancer }
  | { readonly kind: 'endpoints'; readonly localZone: string; readonly failover?: readonly FailoverRule[]; readonly overprovisioningFactor?: number }
  /** Hash policies per route name (`''`: routes no MeshHTTPRoute-targeted configuration names). */
  | { readonly kind: 'routes'; readonly byRoute: Readonly<Record<string, readonly JsonObject[]>> };

/** The proxy's zone: its `kuma.io/zone` tag (Kuma: the zone of the control plane the proxy belongs to). */
function zoneOf(dp: DataplaneModel): string {
  for (const i of dp.inbounds) if (i.tags[ZONE_TAG]) return i.tags[ZONE_TAG];
  return dp.gateway?.tags[ZONE_TAG] ?? '';
}

/**
 * Hash policies of a service's routes: the service's (its `hashPolicies`, else its load
 * balancer's), or per route those of a MeshHTTPRoute-targeted configuration. Proxyless gRPC
 * clients (`lds-api`) get only what gRPC honours, and only with a ring hash it can use.
 */
function routesConf(part: Part, ctx: PluginContext, service: string): Applied | undefined {
  const scoped = routeScoped<MeshLoadBalancingStrategyConf>(TYPE, service, part, ctx);
  if (!scoped) return undefined;
  return once(scoped, part.kind, () => renderRoutes(part, scoped));
}

function renderRoutes(part: Part, scoped: RouteScoped<MeshLoadBalancingStrategyConf>): Applied | undefined {
  const lb = scoped.to?.loadBalancer;
  const render = (c: MeshLoadBalancingStrategyConf | undefined) => (part.kind === 'lds-api' ? grpcHashPolicies(hashPoliciesOf(c), lb) : hashPolicies(hashPoliciesOf(c)));
  const byRoute: Record<string, readonly JsonObject[]> = {};
  const all = render(scoped.to);
  if (all.length > 0) byRoute[''] = all;
  for (const name of Object.keys(scoped.routes ?? {})) {
    const hp = render(forRoute(scoped, name));
    if (hp.length > 0) byRoute[name] = hp;
  }
  return Object.keys(byRoute).length > 0 ? { kind: 'routes', byRoute } : undefined;
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
  reads: [TYPE],
  configure(part: Part, ctx: PluginContext): Applied | undefined {
    const o = part.origin;
    if (o.kind !== 'outbound') return undefined;
    if (part.kind === 'rds' || part.kind === 'lds-api') return routesConf(part, ctx, o.service);
    const conf = ctx.policies.toService(TYPE, o.service) as MeshLoadBalancingStrategyConf | undefined;
    if (!conf) return undefined;
    const lb = conf.loadBalancer;
    if (part.kind === 'cds') return lb ? once(lb, 'cluster', () => ({ kind: 'cluster', lb })) : undefined;
    if (part.kind !== 'eds' || conf.localityAwareness?.disabled === true) return undefined;
    const cz = conf.localityAwareness?.crossZone;
    const factor = cz?.failoverThreshold ? overprovisioningFactor(cz.failoverThreshold.percentage) : undefined;
    const localZone = zoneOf(ctx.dataplane);
    return once(conf, `endpoints|${localZone}`, () => ({
      kind: 'endpoints',
      localZone,
      ...(cz?.failover ? { failover: cz.failover } : {}),
      ...(factor !== undefined ? { overprovisioningFactor: factor } : {}),
    }));
  },
  apply(drafts: Draft[], value: unknown): void {
    const a = value as Applied;
    if (a.kind === 'cluster') for (const c of clusters(drafts)) configureLoadBalancer(c.body, a.lb);
    else if (a.kind === 'endpoints') {
      for (const d of loadAssignments(drafts)) {
        applyLocalityAwareness(d.body, a.localZone, a.failover);
        if (a.overprovisioningFactor !== undefined) d.body['policy'] = { overprovisioning_factor: { value: a.overprovisioningFactor } };
      }
    } else {
      for (const { route, action } of allRouteActions(drafts)) {
        const name = typeof route['name'] === 'string' ? route['name'] : '';
        const hp = a.byRoute[name] ?? a.byRoute[''];
        if (hp) action['hash_policy'] = [...((action['hash_policy'] as JsonObject[] | undefined) ?? []), ...hp.map((h) => structuredClone(h))];
      }
    }
  },
};
