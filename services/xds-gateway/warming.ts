import { TypeUrl } from '../../libs/xds/protos.ts';
import type { XdsResource } from '../../libs/xds/resource.ts';

/**
 * Envoy warms a Cluster again when CDS updates it (its content changed, not only when it is
 * new), and the updated cluster leaves warming only once a ClusterLoadAssignment for it
 * arrives after the update; a control plane that sends only what changed would never send the
 * unchanged one, and the cluster would stay warming until its initial_fetch_timeout (Envoy
 * issue 13009; go-control-plane issue 245; Kuma answered every EDS request during warming,
 * kumahq/kuma#331, and Istio marks EDS "always respond" after a CDS push). So after a CDS
 * response that updates clusters, the stream sends their load assignments again. Our EDS
 * clusters name their load assignment by the cluster's own name (no `service_name`).
 *
 * Listeners warm on RDS the same way, but a listener names its routes inside its filters, and
 * our route configurations change whenever the listener's do; that case is not handled here.
 */
export const WARMED_BY: ReadonlyMap<string, TypeUrl> = new Map([[TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment]]);

/**
 * Names of `next` that `before` (what the client held, or was last sent) has at another
 * content: resources updated, not added. Looked at only when a CDS response goes out (rare).
 */
export function updatedNames(next: Iterable<XdsResource>, ...before: (Iterable<XdsResource> | undefined)[]): string[] {
  const held = new Map<string, Set<string>>();
  for (const list of before) for (const r of list ?? []) (held.get(r.name) ?? held.set(r.name, new Set()).get(r.name)!).add(r.hash);
  const out: string[] = [];
  for (const r of next) {
    const hashes = held.get(r.name);
    if (hashes && [...hashes].some((h) => h !== r.hash)) out.push(r.name);
  }
  return out;
}
