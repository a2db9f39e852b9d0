import type { MeshState } from '../../mesh-view/mesh-view.ts';
import { buildSnapshot, type Snapshot } from '../snapshot.ts';
import type { SharedCache } from './context.ts';
import { proxylessClientListener, serviceCluster, serviceLoadAssignment } from './services.ts';

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
 * same objects every consumer of the service gets (through `shared`), so this costs one set per
 * service, not one per client. `undefined` when the mesh or the service does not exist.
 */
export function serviceByName(mesh: string, view: MeshState | undefined, service: string, shared: SharedCache): Snapshot | undefined {
  const svc = view?.mesh ? view.service(service) : undefined;
  if (!svc) return undefined;
  const ctx = { mesh, shared };
  return buildSnapshot([], [proxylessClientListener(ctx, svc), serviceCluster(ctx, svc), serviceLoadAssignment(ctx, svc)]);
}
