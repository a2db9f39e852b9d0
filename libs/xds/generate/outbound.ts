import type { ServiceView } from '../../mesh-view/mesh-view.ts';
import { Names } from '../names.ts';
import { TypeUrl } from '../protos.ts';
import type { ProxyContext } from './context.ts';
import { hcmConfig, hcmFilter, isHttp, socketAddress, statPrefix, tcpProxyFilter } from './filters.ts';
import { draft, type Part } from './part.ts';
import { clusterPart, loadAssignmentPart, proxylessClientListenerPart, routePart, type UpstreamTls } from './services.ts';
import { proxyTlsOf, servicePeers } from './tls.ts';
import { allocateVips } from './vips.ts';

interface Outbound {
  readonly address: string;
  readonly port: number;
  readonly service: string;
  /** Transparent-proxy outbounds do not bind: the virtual listener hands connections over. */
  readonly bind: boolean;
}

function outboundListenerPart(o: Outbound, svc: ServiceView | undefined): Part {
  const protocol = svc?.protocol ?? 'tcp';
  return {
    kind: 'out-lds',
    origin: { kind: 'outbound', service: o.service, protocol },
    inputs: [o, protocol],
    build: () => {
      const name = Names.outboundListener(o.address, o.port);
      const cluster = Names.outboundCluster(o.service);
      const filter = isHttp(protocol)
        ? hcmFilter(hcmConfig({ statPrefix: statPrefix(cluster), rds: Names.outboundRoute(o.service) }))
        : tcpProxyFilter(statPrefix(cluster), cluster);
      return [
        draft(TypeUrl.Listener, name, {
          name,
          address: socketAddress(o.address, o.port),
          traffic_direction: 'OUTBOUND',
          ...(o.bind ? {} : { bind_to_port: { value: false } }),
          filter_chains: [{ filters: [filter] }],
        }),
      ];
    },
  };
}

/**
 * Services this proxy talks to: its `outbound[]`, plus with transparent proxying every service of
 * the mesh, or those of its `reachableServices`, or (without them) those `ctx.reachable` keeps.
 */
function outboundsOf(ctx: ProxyContext): Outbound[] {
  const list: Outbound[] = ctx.model.outbounds.map((o) => ({ address: o.address, port: o.port, service: o.service, bind: true }));
  const tp = ctx.model.transparentProxying;
  if (tp) {
    const listed = tp.reachableServices.length > 0 ? new Set(tp.reachableServices) : undefined;
    // As Kuma, services listed by the Dataplane take precedence over those trimmed by permission.
    const keep = listed ? (s: string) => listed.has(s) : ctx.reachable;
    const services = keep ? ctx.view.serviceNames().filter(keep) : ctx.view.serviceNames();
    const vips = allocateVips(ctx.mesh, ctx.view.serviceNames());
    for (const service of services) list.push({ address: vips.get(service)!, port: 80, service, bind: false });
  }
  return list;
}

/** Outbound listeners, and per destination service its cluster, load assignment, route and proxyless listener. */
export function generateOutbounds(ctx: ProxyContext): Part[] {
  const parts: Part[] = [];
  const tls = proxyTlsOf(ctx.mesh, ctx.view, ctx.model);
  const upstream: UpstreamTls | undefined = tls ? { tls, flavor: ctx.model.proxyless ? 'grpc' : 'envoy' } : undefined;
  // Which identities each destination's instances have: only when the mesh has MeshIdentities.
  const withPeers = (svc: ServiceView): UpstreamTls | undefined =>
    upstream && ctx.view.hasIdentities() ? { ...upstream, peers: servicePeers(ctx.mesh, ctx.view, svc) } : upstream;
  const perService = new Map<string, ServiceView | undefined>();
  for (const o of outboundsOf(ctx)) {
    if (!perService.has(o.service)) perService.set(o.service, ctx.view.service(o.service));
    parts.push(outboundListenerPart(o, perService.get(o.service)));
  }
  for (const [name, svc] of perService) {
    if (!svc) {
      // An outbound to a service with no endpoints yet: an EDS cluster with an empty assignment,
      // so Envoy accepts the listener and starts routing as soon as endpoints appear.
      const empty: ServiceView = { name, protocol: 'tcp', endpoints: [], revision: -1 };
      parts.push(clusterPart(empty, withPeers(empty)), loadAssignmentPart(ctx.mesh, empty));
      continue;
    }
    parts.push(clusterPart(svc, withPeers(svc)), loadAssignmentPart(ctx.mesh, svc));
    if (isHttp(svc.protocol)) parts.push(routePart(svc));
    parts.push(proxylessClientListenerPart(svc));
  }
  return parts;
}
