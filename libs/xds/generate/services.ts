import type { Endpoint, ServiceView } from '../../mesh-view/mesh-view.ts';
import { ZONE_TAG } from '../../resources/tags.ts';
import type { JsonObject } from '../../resources/validation.ts';
import { Names } from '../names.ts';
import { TypeUrl } from '../protos.ts';
import { ADS_CONFIG_SOURCE, hcmConfig, http2UpstreamOptions, isHttp2, singleClusterRoutes, socketAddress } from './filters.ts';
import { draft, type Origin, type Part } from './part.ts';
import { upstreamTransportSocket, type MeshTls, type TlsFlavor } from './tls.ts';

/**
 * Parts that depend only on a service of the mesh (and, through plugins, on the policies that
 * configure traffic to it), and so are identical for every proxy that uses it alike.
 */

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

const outbound = (svc: ServiceView): Origin => ({ kind: 'outbound', service: svc.name, protocol: svc.protocol });

/** How a proxy's outbound clusters speak to the mesh: plaintext, or mTLS in one proxy's shape. */
export interface UpstreamTls {
  readonly tls: MeshTls;
  readonly flavor: TlsFlavor;
  /** The SPIFFE IDs the destination's instances may present (see servicePeers); Kuma's one by default. */
  readonly peers?: readonly string[];
}

/** The service's EDS cluster; with the mesh's mTLS, presenting the workload certificate. */
export function clusterPart(svc: ServiceView, upstream?: UpstreamTls): Part {
  return {
    kind: 'cds',
    origin: outbound(svc),
    inputs: upstream ? [svc.name, svc.protocol, upstream] : [svc.name, svc.protocol],
    build: () => {
      const name = Names.outboundCluster(svc.name);
      return [
        draft(
          TypeUrl.Cluster,
          name,
          {
            name,
            type: 'EDS',
            eds_cluster_config: { eds_config: ADS_CONFIG_SOURCE },
            connect_timeout: { seconds: 5 },
            lb_policy: 'ROUND_ROBIN',
            ...(isHttp2(svc.protocol) ? { typed_extension_protocol_options: http2UpstreamOptions() } : {}),
            ...(upstream ? { transport_socket: upstreamTransportSocket(upstream.tls, svc.name, upstream.flavor, upstream.peers) } : {}),
          },
        ),
      ];
    },
  };
}

/**
 * The service's ClusterLoadAssignment, served by reference: it changes with the endpoints
 * while its consumers' other resources do not.
 */
export function loadAssignmentPart(mesh: string, svc: ServiceView): Part {
  return {
    kind: 'eds',
    origin: outbound(svc),
    // The revision changes with the endpoints; the mesh keeps equal revisions of two meshes apart.
    inputs: [mesh, svc.name, svc.revision],
    build: () => {
      const name = Names.outboundCluster(svc.name);
      return [draft(TypeUrl.ClusterLoadAssignment, name, { cluster_name: name, endpoints: localityEndpoints(svc.endpoints) })];
    },
    slot: { service: svc.name, of: (next) => loadAssignmentPart(mesh, next) },
  };
}

/** `outbound:<service>`: the route configuration an HTTP outbound listener asks for over RDS. */
export function routePart(svc: ServiceView): Part {
  return {
    kind: 'rds',
    origin: outbound(svc),
    // The protocol too: plugins (MeshTimeout, MeshRetry) configure by the origin's protocol, and a
    // part's Built is shared and memoised by its inputs (see Translator).
    inputs: [svc.name, svc.protocol],
    build: () => {
      const name = Names.outboundRoute(svc.name);
      return [draft(TypeUrl.RouteConfiguration, name, singleClusterRoutes(name, svc.name, Names.outboundCluster(svc.name)))];
    },
  };
}

/** Proxyless gRPC client: a Listener named after the service, with an api_listener HCM routing to its cluster. Named only. */
export function proxylessClientListenerPart(svc: ServiceView): Part {
  return {
    kind: 'lds-api',
    origin: outbound(svc),
    inputs: [svc.name, svc.protocol],
    build: () => {
      const name = Names.proxylessClientListener(svc.name);
      const routeConfig: JsonObject = {
        name: Names.outboundRoute(svc.name),
        virtual_hosts: [{ name: svc.name, domains: ['*'], routes: [{ match: { prefix: '' }, route: { cluster: Names.outboundCluster(svc.name) } }] }],
      };
      return [draft(TypeUrl.Listener, name, { name, api_listener: { api_listener: hcmConfig({ statPrefix: svc.name, routeConfig }) } }, true)];
    },
  };
}
