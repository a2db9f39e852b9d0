import type { Endpoint, ServiceView } from '../../mesh-view/mesh-view.ts';
import { ZONE_TAG } from '../../resources/tags.ts';
import type { JsonObject } from '../../resources/validation.ts';
import { Names } from '../names.ts';
import { TypeUrl } from '../protos.ts';
import { makeResource, type XdsResource } from '../resource.ts';
import type { ProxyContext } from './context.ts';
import { ADS_CONFIG_SOURCE, hcmConfig, http2UpstreamOptions, isHttp, isHttp2, singleClusterRoutes, socketAddress } from './filters.ts';

/**
 * Resources that depend only on a service of the mesh, and so are identical for every proxy
 * that uses it: built once per service revision and shared through ctx.shared.
 */
function cacheKey(ctx: Pick<ProxyContext, 'mesh'>, kind: string, svc: ServiceView): string {
  return `${ctx.mesh}\u0000${kind}\u0000${svc.name}\u0000${svc.revision}`;
}

/** Endpoints grouped by `kuma.io/zone` locality. gRPC requires a locality with a positive weight. */
function localityEndpoints(endpoints: readonly Endpoint[]): JsonObject[] {
  const byZone = new Map<string, Endpoint[]>();
  for (const e of endpoints) {
    const zone = e.tags[ZONE_TAG] ?? '';
    const list = byZone.get(zone) ?? [];
    list.push(e);
    byZone.set(zone, list);
  }
  return [...byZone.keys()].sort().map((zone) => ({
    locality: { zone },
    lb_endpoints: byZone.get(zone)!.map((e) => ({ endpoint: { address: socketAddress(e.address, e.port) }, load_balancing_weight: { value: 1 } })),
    load_balancing_weight: { value: 1 },
  }));
}

export function serviceCluster(ctx: Pick<ProxyContext, 'mesh' | 'shared'>, svc: ServiceView): XdsResource {
  return ctx.shared.get(cacheKey(ctx, 'cds', svc), () => {
    const name = Names.outboundCluster(svc.name);
    return makeResource(TypeUrl.Cluster, name, {
      name,
      type: 'EDS',
      eds_cluster_config: { eds_config: ADS_CONFIG_SOURCE },
      connect_timeout: { seconds: 5 },
      lb_policy: 'ROUND_ROBIN',
      ...(isHttp2(svc.protocol) ? { typed_extension_protocol_options: http2UpstreamOptions() } : {}),
    });
  });
}

/** The service's ClusterLoadAssignment: the same for every proxy of the mesh (it needs no proxy). */
export function serviceLoadAssignment(ctx: Pick<ProxyContext, 'mesh' | 'shared'>, svc: ServiceView): XdsResource {
  return ctx.shared.get(cacheKey(ctx, 'eds', svc), () => {
    const name = Names.outboundCluster(svc.name);
    return makeResource(TypeUrl.ClusterLoadAssignment, name, { cluster_name: name, endpoints: localityEndpoints(svc.endpoints) });
  });
}

export function serviceRoute(ctx: ProxyContext, svc: ServiceView): XdsResource {
  return ctx.shared.get(cacheKey(ctx, 'rds', svc), () => {
    const name = Names.outboundRoute(svc.name);
    return makeResource(TypeUrl.RouteConfiguration, name, singleClusterRoutes(name, svc.name, Names.outboundCluster(svc.name)));
  });
}

/** Proxyless gRPC client: a Listener named after the service, with an api_listener HCM routing to its cluster. */
export function proxylessClientListener(ctx: Pick<ProxyContext, 'mesh' | 'shared'>, svc: ServiceView): XdsResource {
  return ctx.shared.get(cacheKey(ctx, 'lds-api', svc), () => {
    const name = Names.proxylessClientListener(svc.name);
    const routeConfig: JsonObject = {
      name: Names.outboundRoute(svc.name),
      virtual_hosts: [{ name: svc.name, domains: ['*'], routes: [{ match: { prefix: '' }, route: { cluster: Names.outboundCluster(svc.name) } }] }],
    };
    return makeResource(TypeUrl.Listener, name, { name, api_listener: { api_listener: hcmConfig({ statPrefix: svc.name, routeConfig }) } });
  });
}

export { isHttp };
