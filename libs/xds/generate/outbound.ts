import { SERVICE_TAG } from '../../resources/tags.ts';
import { isObject } from '../../resources/validation.ts';
import type { ServiceView } from '../../mesh-view/mesh-view.ts';
import { Names } from '../names.ts';
import { TypeUrl } from '../protos.ts';
import { makeResource, type XdsResource } from '../resource.ts';
import { memo, networking, outbounds, type ProxyContext } from './context.ts';
import { hcmConfig, hcmFilter, isHttp, socketAddress, statPrefix, tcpProxyFilter } from './filters.ts';
import type { Generated } from './inbound.ts';
import { proxylessClientListener, serviceCluster, serviceLoadAssignment, serviceRoute } from './services.ts';
import { allocateVips } from './vips.ts';

interface Outbound {
  readonly address: string;
  readonly port: number;
  readonly service: string;
  /** Transparent-proxy outbounds do not bind: the virtual listener hands connections over. */
  readonly bind: boolean;
}

function outboundListener(o: Outbound, svc: ServiceView | undefined): XdsResource {
  const name = Names.outboundListener(o.address, o.port);
  const cluster = Names.outboundCluster(o.service);
  const filter =
    svc && isHttp(svc.protocol)
      ? hcmFilter(hcmConfig({ statPrefix: statPrefix(cluster), rds: Names.outboundRoute(o.service) }))
      : tcpProxyFilter(statPrefix(cluster), cluster);
  return makeResource(TypeUrl.Listener, name, {
    name,
    address: socketAddress(o.address, o.port),
    traffic_direction: 'OUTBOUND',
    ...(o.bind ? {} : { bind_to_port: { value: false } }),
    filter_chains: [{ filters: [filter] }],
  });
}

/** Services this proxy talks to: its `outbound[]`, plus every service of the mesh with transparent proxying. */
function outboundsOf(ctx: ProxyContext): Outbound[] {
  const list: Outbound[] = outbounds(ctx.dataplane).flatMap((o) => {
    const service = isObject(o['tags']) ? o['tags'][SERVICE_TAG] : o['service'];
    if (typeof service !== 'string') return [];
    const address = typeof o['address'] === 'string' && o['address'] !== '' ? o['address'] : '127.0.0.1';
    return [{ address, port: Number(o['port']), service, bind: true }];
  });
  const tp = networking(ctx.dataplane)['transparentProxying'];
  if (isObject(tp)) {
    const reachable = Array.isArray(tp['reachableServices']) && tp['reachableServices'].length > 0 ? new Set(tp['reachableServices'].map(String)) : undefined;
    const services = ctx.view.serviceNames().filter((s) => !reachable || reachable.has(s));
    const vips = allocateVips(ctx.mesh, ctx.view.serviceNames());
    for (const service of services) list.push({ address: vips.get(service)!, port: 80, service, bind: false });
  }
  return list;
}

export function generateOutbounds(ctx: ProxyContext): Generated {
  const resources: XdsResource[] = [];
  const namedOnly: XdsResource[] = [];
  const perService = new Map<string, ServiceView | undefined>();
  for (const o of outboundsOf(ctx)) {
    if (!perService.has(o.service)) perService.set(o.service, ctx.view.service(o.service));
    const svc = perService.get(o.service);
    resources.push(memo(ctx, 'out-lds', [o, svc?.protocol ?? 'tcp'], () => outboundListener(o, svc)));
  }
  for (const [name, svc] of perService) {
    if (!svc) {
      // An outbound to a service with no endpoints yet: an EDS cluster with an empty assignment,
      // so Envoy accepts the listener and starts routing as soon as endpoints appear.
      const empty = { name, protocol: 'tcp' as const, endpoints: [], revision: -1 };
      resources.push(serviceCluster(ctx, empty), serviceLoadAssignment(ctx, empty));
      continue;
    }
    resources.push(serviceCluster(ctx, svc), serviceLoadAssignment(ctx, svc));
    if (isHttp(svc.protocol)) resources.push(serviceRoute(ctx, svc));
    namedOnly.push(proxylessClientListener(ctx, svc));
  }
  return { resources, namedOnly };
}
