import type { InboundModel } from '../../resources/dataplane-model.ts';
import type { JsonObject } from '../../resources/validation.ts';
import { Names } from '../names.ts';
import { TypeUrl } from '../protos.ts';
import type { ProxyContext } from './context.ts';
import { hcmConfig, hcmFilter, http2UpstreamOptions, isHttp, isHttp2, singleClusterRoutes, socketAddress, statPrefix, tcpProxyFilter } from './filters.ts';
import { draft, type Draft, type Part } from './part.ts';
import { acceptPlaintext, downstreamTransportSocket, proxyTlsOf, type MeshTls } from './tls.ts';

/** What an inbound's resources are built from (the part's cache key). */
interface Inbound {
  readonly address: string;
  readonly port: number;
  readonly servicePort: number;
  readonly serviceAddress: string;
  readonly service: string;
  readonly protocol: string;
  /** The mesh's mTLS, when it has it. */
  readonly tls?: MeshTls;
}

/** The cluster of the local application behind an inbound: `localhost:<servicePort>`. */
function localCluster(i: Inbound): Draft {
  const name = Names.localCluster(i.servicePort);
  return draft(TypeUrl.Cluster, name, {
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
function inboundListener(i: Inbound): Draft {
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
  const body: JsonObject = {
    name,
    address: socketAddress(i.address, i.port),
    traffic_direction: 'INBOUND',
    filter_chains: [{ filters: [filter], ...(i.tls ? { transport_socket: downstreamTransportSocket(i.tls, 'envoy') } : {}) }],
  };
  // With mTLS: TLS only (STRICT), or TLS told from plaintext by the TLS inspector (PERMISSIVE).
  if (i.tls?.mode === 'PERMISSIVE') acceptPlaintext(body);
  return draft(TypeUrl.Listener, name, body);
}

/**
 * The listener an xDS-enabled gRPC server asks for (`kuma.io/grpc/inbound/<ip>:<port>`): the
 * inbound HCM with routes that do not forward (gRPC serves them itself). Offered for the
 * inbound's address and for 0.0.0.0, which a server bound to all interfaces asks for. Named only.
 */
function proxylessServerListener(i: Inbound, address: string): Draft {
  const name = Names.proxylessServerListener(address, i.port);
  const routeConfig: JsonObject = {
    name: Names.inboundRoute(i.service),
    virtual_hosts: [{ name: i.service, domains: ['*'], routes: [{ match: { prefix: '' }, non_forwarding_action: {} }] }],
  };
  return draft(
    TypeUrl.Listener,
    name,
    {
      name,
      address: socketAddress(address, i.port),
      traffic_direction: 'INBOUND',
      // gRPC cannot tell TLS from plaintext on one port: with mTLS it always speaks TLS, and
      // requires a client certificate unless the mesh is PERMISSIVE.
      filter_chains: [{ filters: [hcmFilter(hcmConfig({ statPrefix: statPrefix(name), routeConfig }))], ...(i.tls ? { transport_socket: downstreamTransportSocket(i.tls, 'grpc') } : {}) }],
    },
    true,
  );
}

function inboundPart(model: InboundModel, tls: MeshTls | undefined): Part {
  const i: Inbound = {
    address: model.address,
    port: model.port,
    servicePort: model.servicePort,
    serviceAddress: model.serviceAddress,
    // An inbound without tags (valid in Kuma 2.14) has no service: its routes are named after
    // its local cluster instead, as Envoy needs a non-empty virtual host name.
    service: model.service !== '' ? model.service : Names.localCluster(model.servicePort),
    protocol: model.protocol,
    ...(tls ? { tls } : {}),
  };
  return {
    kind: 'inbound',
    origin: { kind: 'inbound', inbound: model },
    inputs: i,
    // Two inbounds may share a local cluster; if they disagree on it, buildSnapshot reports the collision.
    build: () => [inboundListener(i), localCluster(i), ...[...new Set([i.address, '0.0.0.0'])].map((a) => proxylessServerListener(i, a))],
  };
}

/** Per inbound: its listener, the local application's cluster and the proxyless gRPC server listeners. Ignored inbounds get nothing. */
export function generateInbounds(ctx: ProxyContext): Part[] {
  const tls = proxyTlsOf(ctx.mesh, ctx.view, ctx.model);
  return ctx.model.inbounds.filter((i) => i.state !== 'Ignored').map((i) => inboundPart(i, tls));
}
