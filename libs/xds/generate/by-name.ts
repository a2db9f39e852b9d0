import type { MeshState } from '../../mesh-view/mesh-view.ts';
import { parseDataplane } from '../../resources/dataplane-model.ts';
import type { DataplaneModel } from '../../resources/dataplane-model.ts';
import type { ProxyPolicies } from './plugin.ts';
import type { Snapshot } from '../snapshot.ts';
import type { Translator } from '../translator.ts';
import { clusterPart, loadAssignmentPart, proxylessClientListenerPart } from './services.ts';
import { meshTlsOf, servicePeers } from './tls.ts';

/** Listener names that are a proxy's own resources, never a service asked for by name. */
const OWN_PREFIXES = ['kuma.io/grpc/inbound/', 'inbound:', 'outbound:', 'kuma:'];

/** Whether a requested Listener name may be a service a proxyless client dials (`xds:///<service>`). */
export function isServiceListenerName(name: string): boolean {
  return name.length > 0 && name.length <= 253 && !OWN_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * What a proxyless gRPC client of the mesh gets when it asks for `service` by name, whatever
 * its Dataplane declares: the Listener named after the service (an api_listener with the route
 * inline), the service's Cluster and its ClusterLoadAssignment, all served by name only. The
 * same objects every consumer of the service gets (through the translator's shared cache), so
 * this costs one set per service, not one per client. Policies apply as they do for a consumer
 * that only policies selecting every proxy select (`targetRef` Mesh, or a MeshSubset without
 * tags): the mesh's defaults and mesh-wide rules, what holds for any client. `undefined` when the
 * mesh or the service does not exist.
 */
export function serviceByName(
  mesh: string,
  view: MeshState | undefined,
  service: string,
  translator: Translator,
  /** The policies of a consumer as `anyConsumer` describes it (the policy engine is injected: libs/xds imports no policy). */
  policiesOf?: (model: DataplaneModel) => ProxyPolicies,
): Snapshot | undefined {
  const svc = view?.mesh ? view.service(service) : undefined;
  if (!svc) return undefined;
  // Only proxyless clients ask for a service by name: its cluster speaks gRPC's mTLS shape (the
  // certificate provider is the same for every client). With MeshIdentities, mTLS may hold for
  // the service's instances without the mesh's `mtls` (those a MeshIdentity selects), and they
  // present their identities.
  const peers = servicePeers(mesh, view, svc);
  const withIdentity = peers.length > 1;
  const tls = meshTlsOf(mesh, view) ?? (withIdentity ? { mesh, mode: 'STRICT' as const } : undefined);
  const upstream = tls && { tls, flavor: 'grpc' as const, ...(withIdentity ? { peers } : {}) };
  const model = anyConsumer(mesh);
  const consumer = policiesOf && { model, view: view!, policies: policiesOf(model) };
  return translator.translateParts(mesh, [proxylessClientListenerPart(svc), clusterPart(svc, upstream), loadAssignmentPart(mesh, svc)], consumer);
}

/**
 * A consumer with no name and no labels, whose one inbound has no service (policies select proxies
 * through their inbounds): selected only by the policies that select every proxy.
 */
export function anyConsumer(mesh: string): DataplaneModel {
  return parseDataplane(mesh, '', {}, { networking: { address: '0.0.0.0', inbound: [{ port: 1, tags: { 'kuma.io/service': '' } }] } });
}
