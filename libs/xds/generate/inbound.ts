import { PROTOCOL_TAG, SERVICE_TAG } from '../../resources/tags.ts';
import type { JsonObject } from '../../resources/validation.ts';
import { Names } from '../names.ts';
import { TypeUrl } from '../protos.ts';
import { makeResource, type XdsResource } from '../resource.ts';
import { dataplaneAddress, inbounds, memo, type ProxyContext } from './context.ts';
import { hcmConfig, hcmFilter, http2UpstreamOptions, isHttp, isHttp2, singleClusterRoutes, socketAddress, statPrefix, tcpProxyFilter } from './filters.ts';

interface Inbound {
  readonly address: string;
  readonly port: number;
  readonly servicePort: number;
  readonly serviceAddress: string;
  readonly service: string;
  readonly protocol: string;
}

function inboundsOf(ctx: ProxyContext): Inbound[] {
  const dpAddress = dataplaneAddress(ctx.dataplane);
  return inbounds(ctx.dataplane).map((i) => {
    const tags = (i['tags'] ?? {}) as Record<string, string>;
    const port = Number(i['port']);
    return {
      address: typeof i['address'] === 'string' && i['address'] !== '' ? i['address'] : dpAddress,
      port,
      servicePort: Number(i['servicePort'] || port),
      serviceAddress: typeof i['serviceAddress'] === 'string' && i['serviceAddress'] !== '' ? i['serviceAddress'] : '127.0.0.1',
      service: tags[SERVICE_TAG] ?? '',
      protocol: tags[PROTOCOL_TAG] ?? 'tcp',
    };
  });
}

/** The cluster of the local application behind an inbound: `localhost:<servicePort>`. */
function localCluster(i: Inbound): XdsResource {
  const name = Names.localCluster(i.servicePort);
  return makeResource(TypeUrl.Cluster, name, {
    name,
    type: 'STATIC',
    connect_timeout: { seconds: 10 },
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(i.serviceAddress, i.servicePort) } }] }],
    },
    ...(isHttp2(i.protocol) ? { typed_extension_protocol_options: http2UpstreamOptions() } : {}),
  });
}

/** `inbound:<ip>:<port>`: terminates traffic for the service and hands it to the local application. */
function inboundListener(i: Inbound): XdsResource {
  const name = Names.inboundListener(i.address, i.port);
  const cluster = Names.localCluster(i.servicePort);
  const filter = isHttp(i.protocol)
    ? hcmFilter(
        hcmConfig({
          statPrefix: statPrefix(cluster),
          routeConfig: singleClusterRoutes(Names.inboundRoute(i.service), i.service, cluster),
          http2: isHttp2(i.protocol),
        }),
      )
    : tcpProxyFilter(statPrefix(cluster), cluster);
  return makeResource(TypeUrl.Listener, name, {
    name,
    address: socketAddress(i.address, i.port),
    traffic_direction: 'INBOUND',
    filter_chains: [{ filters: [filter] }],
  });
}

/**
 * The listener an xDS-enabled gRPC server asks for (`kuma.io/grpc/inbound/<ip>:<port>`): the
 * inbound HCM with routes that do not forward (gRPC serves them itself). Offered for the
 * inbound's address and for 0.0.0.0, which a server bound to all interfaces asks for.
 */
function proxylessServerListener(i: Inbound, address: string): XdsResource {
  const name = Names.proxylessServerListener(address, i.port);
  const routeConfig: JsonObject = {
    name: Names.inboundRoute(i.service),
    virtual_hosts: [{ name: i.service, domains: ['*'], routes: [{ match: { prefix: '' }, non_forwarding_action: {} }] }],
  };
  return makeResource(TypeUrl.Listener, name, {
    name,
    address: socketAddress(address, i.port),
    traffic_direction: 'INBOUND',
    filter_chains: [{ filters: [hcmFilter(hcmConfig({ statPrefix: statPrefix(name), routeConfig }))] }],
  });
}

export interface Generated {
  /** Served to wildcard (Envoy) subscribers and by name. */
  readonly resources: XdsResource[];
  /** Served only when asked for by name (proxyless gRPC). */
  readonly namedOnly: XdsResource[];
}

export function generateInbounds(ctx: ProxyContext): Generated {
  const resources: XdsResource[] = [];
  const namedOnly: XdsResource[] = [];
  for (const i of inboundsOf(ctx)) {
    // Two inbounds may share a local cluster; if they disagree on it, buildSnapshot reports the collision.
    resources.push(memo(ctx, 'in-lds', i, () => inboundListener(i)), memo(ctx, 'in-cds', i, () => localCluster(i)));
    for (const address of new Set([i.address, '0.0.0.0'])) namedOnly.push(memo(ctx, 'in-grpc', [i, address], () => proxylessServerListener(i, address)));
  }
  return { resources, namedOnly };
}
