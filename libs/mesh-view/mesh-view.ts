import { MESH_IDENTITY, MESH_TRUST } from '../ca/mesh-identity.ts';
import type { Resource } from '../resources/resource.ts';
import type { PolicyItem } from '../policies/core/matchable.ts';
import type { SelectionContext } from '../policies/core/select.ts';
import { DataplaneSelectionIndex } from '../policies/core/selection-index.ts';
import { dataplaneModel, type DataplaneModel } from '../resources/dataplane-model.ts';
import { PROTOCOL_TAG, PROTOCOLS, type Protocol } from '../resources/tags.ts';

/** The workload identity types the views keep besides Meshes, Dataplanes and policies. */
export const IDENTITY_TYPES = [MESH_IDENTITY, MESH_TRUST] as const;

/** One address a service is reachable at: an inbound of a Dataplane. */
export interface Endpoint {
  readonly dataplane: string;
  readonly address: string;
  readonly port: number;
  readonly tags: Readonly<Record<string, string>>;
}

export interface ServiceView {
  readonly name: string;
  /** `kuma.io/protocol` of its inbounds; tcp when they disagree or say nothing (as Kuma). */
  readonly protocol: Protocol;
  /** Sorted by address, port, dataplane: stable, so generated resources hash the same everywhere. */
  readonly endpoints: readonly Endpoint[];
  /** Grows by one whenever endpoints or protocol change: a cheap cache key. */
  readonly revision: number;
}

/** What one applied change touched in a mesh. */
export interface MeshChange {
  readonly mesh: string;
  /** The Mesh resource itself changed (or was deleted). */
  readonly meshChanged: boolean;
  /** Dataplanes whose own resource changed (including deletions). */
  readonly dataplanes: ReadonlySet<string>;
  /** Services whose endpoints or protocol changed. */
  readonly services: ReadonlySet<string>;
  /** A service appeared or disappeared. */
  readonly serviceSetChanged: boolean;
  /**
   * Of `services`, those that existed before and after with the same protocol: only their
   * endpoints (their ClusterLoadAssignment) changed, nothing else a consumer is built from.
   */
  readonly endpointsOnly: ReadonlySet<string>;
  /** A policy of the mesh changed: its state before and after (either absent on create or delete). */
  readonly policy?: { readonly type: string; readonly name: string; readonly before?: PolicyItem; readonly after?: PolicyItem };
}

interface DataplaneEntry {
  readonly resource: Resource;
  readonly model: DataplaneModel;
  readonly endpoints: ReadonlyMap<string, readonly Endpoint[]>;
  readonly outboundServices: ReadonlySet<string>;
  readonly transparent: boolean;
}

function endpointsOf(dp: DataplaneModel): Map<string, Endpoint[]> {
  const out = new Map<string, Endpoint[]>();
  for (const inbound of dp.inbounds) {
    // Only ready inbounds take traffic (Kuma: `health.ready: false` leaves the load-balancing set).
    if (!inbound.service || inbound.state !== 'Ready') continue;
    const ep: Endpoint = { dataplane: dp.name, address: inbound.advertisedAddress, port: inbound.port, tags: inbound.tags };
    const list = out.get(inbound.service) ?? [];
    list.push(ep);
    out.set(inbound.service, list);
  }
  return out;
}

const cmpEndpoint = (a: Endpoint, b: Endpoint): number =>
  a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port || (a.dataplane < b.dataplane ? -1 : a.dataplane > b.dataplane ? 1 : 0);

/** The state of one mesh: its Dataplanes, services and the indexes that say who depends on what. */
export class MeshState {
  mesh: Resource | undefined;
  private readonly dataplanes = new Map<string, DataplaneEntry>();
  private readonly endpointsByService = new Map<string, Map<string, readonly Endpoint[]>>();
  private readonly serviceViews = new Map<string, ServiceView>();
  private readonly revisions = new Map<string, number>();
  private readonly consumers = new Map<string, Set<string>>();
  /**
   * Services a proxy's last translation read beyond its outbounds (a route's backends), by
   * service: a change to them regenerates it too. Kept by `track`/`setReads`.
   */
  private readonly readers = new Map<string, Set<string>>();
  private readonly readsOf = new Map<string, readonly string[]>();
  private reads: Set<string> | undefined;
  private readonly transparent = new Set<string>();
  /** Policies by type, then name. */
  private readonly policiesByType = new Map<string, Map<string, PolicyItem>>();
  /** Which Dataplanes a policy selects, in time proportional to the candidates (libs/policies/core). */
  private readonly selection: DataplaneSelectionIndex;
  /** Grows by one with every policy change: a cheap key for what was computed from the policies. */
  policyRevision = 0;
  private readonly typeRevisions = new Map<string, number>();
  /**
   * Rules computed from the policies, shared by every proxy the same policies select (see
   * ComputedPolicies); emptied by every policy change.
   */
  readonly rulesCache = new Map<string, unknown>();
  /** MeshHTTPRoute lookups for policies that target a route. */
  readonly selectionContext: SelectionContext = { route: (_mesh, name) => this.policiesByType.get('MeshHTTPRoute')?.get(name) };

  /** MeshIdentities and MeshTrusts (Kuma 2.x workload identity), by type then name. */
  private readonly identityResources = new Map<string, Map<string, Resource>>();
  /** Grows by one with every MeshIdentity or MeshTrust change: a key for what was computed from them. */
  identityRevision = 0;

  constructor(readonly name: string) {
    this.selection = new DataplaneSelectionIndex(this.selectionContext);
  }

  /** The MeshIdentities of this mesh. */
  identities(): Iterable<Resource> {
    return this.identityResources.get(MESH_IDENTITY)?.values() ?? [];
  }

  /** The MeshTrusts of this mesh. */
  trusts(): Iterable<Resource> {
    return this.identityResources.get(MESH_TRUST)?.values() ?? [];
  }

  /** Whether some MeshIdentity exists in this mesh (its proxies may present other SPIFFE IDs than Kuma's). */
  hasIdentities(): boolean {
    return (this.identityResources.get(MESH_IDENTITY)?.size ?? 0) > 0;
  }

  /** Replaces (or with `undefined`, removes) a MeshIdentity or MeshTrust. */
  setIdentityResource(type: string, name: string, r: Resource | undefined): void {
    let byName = this.identityResources.get(type);
    if (!byName) this.identityResources.set(type, (byName = new Map()));
    if (r) byName.set(name, r);
    else byName.delete(name);
    this.identityRevision++;
  }

  /** The policies of a type in this mesh (any order). */
  policies(type: string): Iterable<PolicyItem> {
    return this.policiesByType.get(type)?.values() ?? [];
  }

  /** Every policy type that has a policy in this mesh. */
  policyTypes(): string[] {
    return [...this.policiesByType.keys()];
  }

  /** Replaces (or with `undefined`, removes) a policy; returns its state before. */
  setPolicy(type: string, name: string, p: PolicyItem | undefined): PolicyItem | undefined {
    let byName = this.policiesByType.get(type);
    const before = byName?.get(name);
    if (p) {
      if (!byName) this.policiesByType.set(type, (byName = new Map()));
      byName.set(name, p);
    } else if (byName) {
      byName.delete(name);
      if (byName.size === 0) this.policiesByType.delete(type);
    }
    this.policyRevision++;
    this.typeRevisions.set(type, this.policyRevisionOf(type) + 1);
    this.rulesCache.clear();
    return before;
  }

  /** Grows by one with every change to a policy of `type`. */
  policyRevisionOf(type: string): number {
    return this.typeRevisions.get(type) ?? 0;
  }

  dataplane(name: string): Resource | undefined {
    return this.dataplanes.get(name)?.resource;
  }

  /** The typed model of a Dataplane of this mesh (parsed once per resource version). */
  dataplaneModel(name: string): DataplaneModel | undefined {
    return this.dataplanes.get(name)?.model;
  }

  dataplaneNames(): string[] {
    return [...this.dataplanes.keys()];
  }

  get dataplaneCount(): number {
    return this.dataplanes.size;
  }

  serviceNames(): string[] {
    return [...this.endpointsByService.keys()].sort();
  }

  /** A service's view; `track: false` keeps the read out of `track` (what a proxy is not built from). */
  service(name: string, track = true): ServiceView | undefined {
    if (track) this.reads?.add(name);
    let view = this.serviceViews.get(name);
    if (view) return view;
    const byDp = this.endpointsByService.get(name);
    if (!byDp) return undefined;
    const endpoints = [...byDp.values()].flat().sort(cmpEndpoint);
    const protocols = new Set(endpoints.map((e) => e.tags[PROTOCOL_TAG] ?? 'tcp'));
    const only = protocols.size === 1 ? [...protocols][0]! : 'tcp';
    const protocol = ((PROTOCOLS as readonly string[]).includes(only) ? only : 'tcp') as Protocol;
    view = { name, protocol, endpoints, revision: this.revisions.get(name) ?? 0 };
    this.serviceViews.set(name, view);
    return view;
  }

  /** Dataplanes whose configuration depends on `service`: explicit outbounds and transparent proxies. */
  consumersOf(service: string): Set<string> {
    return new Set([...(this.consumers.get(service) ?? []), ...(this.readers.get(service) ?? []), ...this.transparent]);
  }

  /** Runs `fn` and returns, with its result, every service it read through `service()`. Not reentrant. */
  track<T>(fn: () => T): { result: T; reads: ReadonlySet<string> } {
    const reads = new Set<string>();
    this.reads = reads;
    try {
      return { result: fn(), reads };
    } finally {
      this.reads = undefined;
    }
  }

  /**
   * Records the services a Dataplane's configuration was built from (see `track`), so a change to
   * any of them, not only to its outbounds, regenerates it. Its own outbounds need not be listed.
   */
  setReads(dataplane: string, services: Iterable<string>): void {
    for (const svc of this.readsOf.get(dataplane) ?? []) {
      const set = this.readers.get(svc);
      set?.delete(dataplane);
      if (set?.size === 0) this.readers.delete(svc);
    }
    const own = this.dataplanes.get(dataplane)?.outboundServices;
    const extra = [...services].filter((s) => !own?.has(s));
    if (extra.length === 0) {
      this.readsOf.delete(dataplane);
      return;
    }
    this.readsOf.set(dataplane, extra);
    for (const svc of extra) {
      let set = this.readers.get(svc);
      if (!set) this.readers.set(svc, (set = new Set()));
      set.add(dataplane);
    }
  }

  /** Adds to the services recorded for a Dataplane (a translation redone in part read these too). */
  addReads(dataplane: string, services: Iterable<string>): void {
    const own = this.dataplanes.get(dataplane)?.outboundServices;
    const before = this.readsOf.get(dataplane) ?? [];
    const extra = [...services].filter((s) => !own?.has(s) && !before.includes(s));
    if (extra.length > 0) this.setReads(dataplane, [...before, ...extra]);
  }

  transparentDataplanes(): ReadonlySet<string> {
    return this.transparent;
  }

  /** Replaces (or with `undefined`, removes) a Dataplane; returns the services it touched. */
  setDataplane(name: string, r: Resource | undefined): { services: Set<string>; serviceSetChanged: boolean; endpointsOnly: Set<string> } {
    const before = this.dataplanes.get(name);
    const touched = new Set<string>();
    let serviceSetChanged = false;
    if (before) {
      for (const svc of before.endpoints.keys()) {
        touched.add(svc);
        const byDp = this.endpointsByService.get(svc)!;
        byDp.delete(name);
        if (byDp.size === 0) {
          this.endpointsByService.delete(svc);
          serviceSetChanged = true;
        }
      }
      for (const svc of before.outboundServices) this.consumers.get(svc)?.delete(name);
      this.transparent.delete(name);
      this.dataplanes.delete(name);
      this.selection.remove(name);
      if (!r) this.setReads(name, []);
    }
    if (r) {
      const model = dataplaneModel(r);
      const entry: DataplaneEntry = {
        resource: r,
        model,
        endpoints: endpointsOf(model),
        outboundServices: new Set(model.outbounds.map((o) => o.service)),
        transparent: model.transparentProxying !== undefined,
      };
      this.dataplanes.set(name, entry);
      this.selection.upsert(model);
      for (const [svc, eps] of entry.endpoints) {
        let byDp = this.endpointsByService.get(svc);
        if (!byDp) {
          this.endpointsByService.set(svc, (byDp = new Map()));
          serviceSetChanged = true;
        }
        byDp.set(name, eps);
        touched.add(svc);
      }
      for (const svc of entry.outboundServices) {
        let set = this.consumers.get(svc);
        if (!set) this.consumers.set(svc, (set = new Set()));
        set.add(name);
      }
      if (entry.transparent) this.transparent.add(name);
    }
    // Only services whose endpoint list really changed count (a tag-less edit touches none).
    const changed = new Set<string>();
    const endpointsOnly = new Set<string>();
    for (const svc of touched) {
      const old = this.serviceViews.get(svc);
      this.serviceViews.delete(svc);
      const now = this.service(svc);
      if (!old || !now || JSON.stringify(old.endpoints) !== JSON.stringify(now.endpoints) || old.protocol !== now.protocol) {
        changed.add(svc);
        if (old && now && old.protocol === now.protocol) endpointsOnly.add(svc);
        this.revisions.set(svc, (this.revisions.get(svc) ?? 0) + 1);
        this.serviceViews.delete(svc);
      }
    }
    return { services: changed, serviceSetChanged, endpointsOnly };
  }

  /** Dataplanes to regenerate after `change`. */
  affected(change: MeshChange): Set<string> {
    if (change.meshChanged) return new Set(this.dataplanes.keys());
    const out = new Set<string>([...change.dataplanes].filter((d) => this.dataplanes.has(d)));
    for (const svc of change.services) for (const dp of this.consumersOf(svc)) out.add(dp);
    if (change.serviceSetChanged) for (const dp of this.transparent) out.add(dp);
    // A policy change: exactly the Dataplanes it selected before or selects now.
    if (change.policy) for (const dp of this.selection.affectedBy(change.policy.before, change.policy.after)) out.add(dp);
    return out;
  }
}

/** A stored policy as the matcher sees it. */
export const policyItemOf = (r: Resource): PolicyItem => ({
  type: r.meta.type,
  name: r.meta.name,
  mesh: r.meta.mesh ?? '',
  labels: r.meta.labels,
  spec: r.spec as PolicyItem['spec'],
});

/** Per-mesh views over the current state, fed resource by resource. Pure: no I/O. */
export class MeshViews {
  private readonly meshes = new Map<string, MeshState>();

  /** `policyTypes`: the targetRef policy types (descriptor `isPolicy`) whose resources the views keep. */
  constructor(private readonly policyTypes: ReadonlySet<string> = new Set()) {}

  get(mesh: string): MeshState | undefined {
    return this.meshes.get(mesh);
  }

  meshNames(): string[] {
    return [...this.meshes.keys()];
  }

  private state(mesh: string): MeshState {
    let s = this.meshes.get(mesh);
    if (!s) this.meshes.set(mesh, (s = new MeshState(mesh)));
    return s;
  }

  /**
   * Applies the new state of one resource (`undefined` = deleted): Meshes, Dataplanes,
   * MeshIdentities, MeshTrusts and the policy types given to the constructor; other types are ignored. Returns what changed, if anything.
   */
  apply(type: string, mesh: string | undefined, name: string, after: Resource | undefined): MeshChange | undefined {
    if (type === 'Mesh') {
      const s = this.state(name);
      s.mesh = after;
      return { mesh: name, meshChanged: true, dataplanes: new Set(), services: new Set(), serviceSetChanged: false, endpointsOnly: new Set() };
    }
    if ((IDENTITY_TYPES as readonly string[]).includes(type) && mesh !== undefined) {
      // Who presents which identity and trusts whom: every proxy of the mesh may change (rare).
      this.state(mesh).setIdentityResource(type, name, after);
      return { mesh, meshChanged: true, dataplanes: new Set(), services: new Set(), serviceSetChanged: false, endpointsOnly: new Set() };
    }
    if (type === 'Dataplane' && mesh !== undefined) {
      const { services, serviceSetChanged, endpointsOnly } = this.state(mesh).setDataplane(name, after);
      return { mesh, meshChanged: false, dataplanes: new Set([name]), services, serviceSetChanged, endpointsOnly };
    }
    if (mesh !== undefined && this.policyTypes.has(type)) {
      const state = this.state(mesh);
      const next = after ? policyItemOf(after) : undefined;
      const before = state.setPolicy(type, name, next);
      const policy = { type, name, ...(before ? { before } : {}), ...(next ? { after: next } : {}) };
      return { mesh, meshChanged: false, dataplanes: new Set(), services: new Set(), serviceSetChanged: false, endpointsOnly: new Set(), policy };
    }
    return undefined;
  }
}
