import { createHash } from 'node:crypto';
import type { MeshState, ServiceView } from '../../mesh-view/mesh-view.ts';
import type { Protocol } from '../../resources/tags.ts';
import type { Part } from '../../xds/generate/part.ts';
import type { PluginContext } from '../../xds/generate/plugin.ts';
import { clusterPart, loadAssignmentPart } from '../../xds/generate/services.ts';

/**
 * Traffic splits of Kuma's routes (MeshHTTPRoute, MeshTCPRoute): which clusters a route's
 * backendRefs go to, with which weights, and the clusters and load assignments those need
 * (pkg/plugins/policies/core/xds/meshroute: makeSplit, GetClusterName, GenerateClusters,
 * GenerateEndpoints).
 */

/** A route's backendRef (api/common/v1alpha1 BackendRef): a targetRef plus weight and port. */
export interface BackendRef {
  readonly kind: string;
  readonly name?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly weight?: number;
  readonly port?: number;
}

/** One weighted destination of a route: an Envoy cluster and its weight. */
export interface Split {
  readonly cluster: string;
  readonly weight: number;
}

/** A cluster a split sends to: the service, and the tags its endpoints must have (none: the service's own cluster). */
export interface SplitCluster {
  readonly cluster: string;
  readonly service: string;
  readonly tags: Readonly<Record<string, string>>;
}

const HTTP_PROTOCOLS: ReadonlySet<string> = new Set(['http', 'http2', 'grpc']);
/** Kuma's MakeTCPSplit also accepts a destination whose protocol it cannot tell (no endpoints yet). */
const TCP_PROTOCOLS: ReadonlySet<string> = new Set(['unknown', 'tcp', 'http', 'http2', 'grpc', 'kafka']);

const sortedTags = (tags: Readonly<Record<string, string>>): [string, string][] => Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * The cluster of a backendRef: the service's own cluster (named after it) when it selects no
 * tags, otherwise a cluster of its own for that subset, `<service>-<16 hex digits>`, the digits
 * a digest of the subset's tags, so the same subset gets the same name on every proxy and in
 * every route (what Kuma's per-backendRef cluster cache guarantees within one proxy).
 */
export function splitClusterName(service: string, tags: Readonly<Record<string, string>> = {}): string {
  const entries = sortedTags(tags);
  if (entries.length === 0) return service;
  const digest = createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 16);
  return `${service}-${digest}`;
}

/** The protocol Kuma infers for a destination: the service's, or `unknown` when it has no endpoints. */
const protocolOf = (view: MeshState, service: string): string => view.service(service)?.protocol ?? 'unknown';

/**
 * Kuma's makeSplit: the weighted clusters of a route's backendRefs. Kinds other than
 * MeshService/MeshServiceSubset are skipped (MeshExternalService and MeshMultiZoneService have
 * no clusters here yet) and so are refs of weight 0. `undefined` when a destination's protocol
 * does not fit (an HTTP route to a TCP service or to one that does not exist): Kuma then drops
 * the route altogether. Weight defaults to 1.
 */
export function makeSplit(
  view: MeshState,
  refs: readonly BackendRef[],
  kind: 'http' | 'tcp',
): { splits: Split[]; clusters: SplitCluster[] } | undefined {
  const allowed = kind === 'http' ? HTTP_PROTOCOLS : TCP_PROTOCOLS;
  const splits: Split[] = [];
  const clusters: SplitCluster[] = [];
  for (const ref of refs) {
    if ((ref.kind !== 'MeshService' && ref.kind !== 'MeshServiceSubset') || !ref.name) continue;
    const weight = ref.weight ?? 1;
    if (weight === 0) continue;
    if (!allowed.has(protocolOf(view, ref.name))) return undefined;
    const tags = ref.kind === 'MeshServiceSubset' ? (ref.tags ?? {}) : {};
    const cluster = splitClusterName(ref.name, tags);
    splits.push({ cluster, weight });
    if (!clusters.some((c) => c.cluster === cluster)) clusters.push({ cluster, service: ref.name, tags: Object.fromEntries(sortedTags(tags)) });
  }
  return { splits, clusters };
}

const matchesTags = (tags: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean =>
  Object.entries(want).every(([k, v]) => tags[k] === v);

/** A ServiceView reduced to the endpoints of a subset and renamed after its cluster, for the xds part builders. */
const subsetView = (svc: ServiceView, c: SplitCluster): ServiceView => ({
  ...svc,
  name: c.cluster,
  endpoints: svc.endpoints.filter((e) => matchesTags(e.tags, c.tags)),
});

/** The Cluster of a subset: the service's cluster, named after the subset (an origin of the service, so its policies apply). */
export function subsetClusterPart(svc: ServiceView, c: SplitCluster): Part {
  const inner = clusterPart(subsetView(svc, c));
  return { kind: 'cds', origin: { kind: 'outbound', service: svc.name, protocol: svc.protocol }, inputs: ['subset', svc.name, svc.protocol, c.cluster], build: inner.build };
}

/**
 * The ClusterLoadAssignment of a subset: only the endpoints whose tags match. Served by
 * reference through a slot of the *service*, so an endpoint change of the service rebuilds it
 * (once per distinct subset) without rebuilding the proxies that route to it.
 */
export function subsetLoadAssignmentPart(mesh: string, svc: ServiceView, c: SplitCluster): Part {
  const inner = loadAssignmentPart(mesh, subsetView(svc, c));
  return {
    kind: 'eds',
    origin: { kind: 'outbound', service: svc.name, protocol: svc.protocol },
    inputs: ['subset', mesh, svc.name, svc.revision, c.cluster, c.tags],
    build: inner.build,
    slot: { service: svc.name, of: (next) => subsetLoadAssignmentPart(mesh, next, c) },
  };
}

/**
 * The parts a proxy lacks for the clusters its splits send to: a subset's own Cluster and
 * ClusterLoadAssignment, and the cluster of a service the proxy has no outbound for (Kuma
 * generates clusters for every destination of a split). A destination without endpoints gets an
 * empty assignment, as an outbound to it does.
 */
export function splitParts(built: readonly Part[], ctx: PluginContext, clusters: readonly SplitCluster[]): Part[] {
  const isSubset = (p: Part) => Array.isArray(p.inputs) && p.inputs[0] === 'subset';
  const have = new Set(built.filter((p) => p.kind === 'cds' && !isSubset(p)).map((p) => (p.origin.kind === 'outbound' ? p.origin.service : '')));
  const out: Part[] = [];
  const seen = new Set<string>();
  for (const c of clusters) {
    if (seen.has(c.cluster) || (c.cluster === c.service && have.has(c.service))) continue;
    seen.add(c.cluster);
    const svc: ServiceView = ctx.view.service(c.service) ?? { name: c.service, protocol: 'tcp' as Protocol, endpoints: [], revision: -1 };
    if (c.cluster === c.service) out.push(clusterPart(svc), loadAssignmentPart(ctx.mesh, svc));
    else out.push(subsetClusterPart(svc, c), subsetLoadAssignmentPart(ctx.mesh, svc, c));
  }
  return out;
}
