import type { XdsResource } from './resource.ts';
import { TypeUrl } from './protos.ts';
import { sameContent, withResource, type Snapshot } from './snapshot.ts';

/**
 * The seam between whoever generates snapshots (projectors) and whoever serves them (gateways).
 * `watch` calls `onSnapshot` with the proxy's snapshot as soon as one exists and again
 * whenever it changes (`undefined` when the proxy's Dataplane is gone), until unsubscribed.
 * Calls for one proxy arrive in order; a watcher may be called with an unchanged snapshot.
 */
export interface SnapshotSource {
  watch(proxyKey: string, onSnapshot: (s: Snapshot | undefined) => void): () => void;
  /**
   * What a proxyless gRPC client of `mesh` is served when it asks for `service` by name: the
   * Listener named after the service, its Cluster and ClusterLoadAssignment (all in `namedOnly`),
   * built once per service and shared by every client that asks. `onService` is called once the
   * current state is known (`undefined`: no such service in that mesh, or the mesh is gone),
   * then whenever it changes, until unsubscribed. Calls for one service arrive in order.
   */
  watchService?(mesh: string, service: string, onService: (s: Snapshot | undefined) => void): () => void;
}

/** Where a generator puts snapshots: it asks which proxies are wanted, and hands over each new one. */
export interface SnapshotSink {
  /** Whether this proxy's snapshot should be generated here (watched, or in this projector's share). */
  wants(proxyKey: string): boolean;
  /** A new snapshot for the proxy (`undefined`: its Dataplane or mesh is gone). */
  set(proxyKey: string, snapshot: Snapshot | undefined): void;
  /**
   * A sink that serves by-reference resources (XdsResource.shareKey: a service's load
   * assignments) by reference takes the new content of a slot here, and then is not handed the
   * consumers' snapshots for a change that touched only endpoints.
   */
  setShared?(mesh: string, resource: XdsResource, changedAt?: number): void;
  /** Whether the by-name resources of this service (see `SnapshotSource.watchService`) should be generated here. */
  wantsService?(mesh: string, service: string): boolean;
  /** New by-name resources of a service (`undefined`: the service or its mesh is gone). */
  setService?(mesh: string, service: string, snapshot: Snapshot | undefined): void;
  /**
   * The by-name resources reach their readers with the service's ClusterLoadAssignment through
   * the shared pointer (`setShared`), so a change that touched only endpoints needs no `setService`.
   */
  readonly servicesShareLoadAssignments?: boolean;
}

/**
 * In-process snapshot store. Tells its owner which proxies are watched, so only those are
 * generated. It serves shared ClusterLoadAssignments by reference, as gateways do over NATS:
 * an endpoint change of a service replaces that one resource in each snapshot that holds it
 * (found through an index), instead of the generator rebuilding every consumer's snapshot.
 */
export class SnapshotCache implements SnapshotSource, SnapshotSink {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly watchers = new Map<string, Set<(s: Snapshot | undefined) => void>>();
  /** `mesh\0shareKey` of each by-reference resource -> the proxies whose snapshots hold it. */
  private readonly holders = new Map<string, Set<string>>();

  /** `mesh\0service` -> the by-name resources of a service that some stream asked for, and who watches them. */
  private readonly services = new Map<string, { snapshot: Snapshot | undefined; readonly watchers: Set<(s: Snapshot | undefined) => void> }>();

  constructor(
    private readonly hooks: {
      onFirstWatch?: (key: string) => void;
      onLastUnwatch?: (key: string) => void;
      /** A service was asked for by name for the first time: its resources are wanted (call `setService`). */
      onFirstServiceWatch?: (mesh: string, service: string) => void;
    } = {},
  ) {}

  watchService(mesh: string, service: string, onService: (s: Snapshot | undefined) => void): () => void {
    const key = holderKey(mesh, service);
    let entry = this.services.get(key);
    if (!entry) {
      this.services.set(key, (entry = { snapshot: undefined, watchers: new Set() }));
      this.hooks.onFirstServiceWatch?.(mesh, service);
    }
    entry.watchers.add(onService);
    onService(entry.snapshot);
    const e = entry;
    return () => {
      e.watchers.delete(onService);
      if (e.watchers.size === 0 && this.services.get(key) === e) this.services.delete(key);
    };
  }

  wantsService(mesh: string, service: string): boolean {
    return this.services.has(holderKey(mesh, service));
  }

  setService(mesh: string, service: string, snapshot: Snapshot | undefined): void {
    const entry = this.services.get(holderKey(mesh, service));
    if (!entry || sameContent(entry.snapshot, snapshot)) return;
    entry.snapshot = snapshot;
    for (const w of entry.watchers) w(snapshot);
  }

  watch(proxyKey: string, onSnapshot: (s: Snapshot | undefined) => void): () => void {
    let set = this.watchers.get(proxyKey);
    const first = !set;
    if (!set) this.watchers.set(proxyKey, (set = new Set()));
    set.add(onSnapshot);
    const current = this.snapshots.get(proxyKey);
    if (current) onSnapshot(current);
    if (first) this.hooks.onFirstWatch?.(proxyKey);
    return () => {
      set.delete(onSnapshot);
      if (set.size === 0) {
        this.watchers.delete(proxyKey);
        this.index(proxyKey, this.snapshots.get(proxyKey), undefined);
        this.snapshots.delete(proxyKey);
        this.hooks.onLastUnwatch?.(proxyKey);
      }
    };
  }

  set(proxyKey: string, snapshot: Snapshot | undefined): void {
    if (!this.watchers.has(proxyKey)) return;
    this.index(proxyKey, this.snapshots.get(proxyKey), snapshot);
    this.serve(proxyKey, snapshot);
  }

  setShared(mesh: string, resource: XdsResource, changedAt?: number): void {
    if (resource.shareKey === undefined) return;
    for (const proxyKey of this.holders.get(holderKey(mesh, resource.shareKey)) ?? []) {
      const old = this.snapshots.get(proxyKey);
      const section = old && holdsSlot(old, resource);
      if (!old || !section) continue;
      const next = withResource(old, section, resource, changedAt);
      // The same names: the index stays as it is.
      if (next !== old) this.serve(proxyKey, next);
    }
  }

  wants(proxyKey: string): boolean {
    return this.watchers.has(proxyKey);
  }

  get(proxyKey: string): Snapshot | undefined {
    return this.snapshots.get(proxyKey);
  }

  watched(): IterableIterator<string> {
    return this.watchers.keys();
  }

  private serve(proxyKey: string, snapshot: Snapshot | undefined): void {
    if (snapshot) this.snapshots.set(proxyKey, snapshot);
    else this.snapshots.delete(proxyKey);
    for (const w of this.watchers.get(proxyKey) ?? []) w(snapshot);
  }

  /** Moves the proxy in the holders index from the slots of `before` to those of `after`. */
  private index(proxyKey: string, before: Snapshot | undefined, after: Snapshot | undefined): void {
    // The same load assignment maps (a policy change that left them alone): the same slots.
    const cla = TypeUrl.ClusterLoadAssignment;
    if (before && after && before.resources.get(cla) === after.resources.get(cla) && before.namedOnly.get(cla) === after.namedOnly.get(cla)) return;
    const mesh = proxyKey.slice(0, proxyKey.indexOf('.'));
    const now = new Set(slotsOf(after));
    const then = before ? new Set(slotsOf(before)) : EMPTY;
    for (const slot of then) {
      if (now.has(slot)) continue;
      const set = this.holders.get(holderKey(mesh, slot));
      set?.delete(proxyKey);
      if (set?.size === 0) this.holders.delete(holderKey(mesh, slot));
    }
    for (const slot of now) {
      if (then.has(slot)) continue;
      let set = this.holders.get(holderKey(mesh, slot));
      if (!set) this.holders.set(holderKey(mesh, slot), (set = new Set()));
      set.add(proxyKey);
    }
  }
}

const EMPTY: ReadonlySet<string> = new Set();
const holderKey = (mesh: string, slot: string) => `${mesh}\u0000${slot}`;

/** The slots of the by-reference resources a snapshot holds (only load assignments are). */
function* slotsOf(s: Snapshot | undefined): Iterable<string> {
  if (!s) return;
  for (const section of [s.resources, s.namedOnly]) for (const r of section.get(TypeUrl.ClusterLoadAssignment)?.values() ?? []) if (r.shareKey !== undefined) yield r.shareKey;
}

/** The section in which `s` holds `r`'s slot under `r`'s name, if it does. */
function holdsSlot(s: Snapshot, r: XdsResource): 'resources' | 'namedOnly' | undefined {
  if (s.resources.get(r.typeUrl)?.get(r.name)?.shareKey === r.shareKey) return 'resources';
  if (s.namedOnly.get(r.typeUrl)?.get(r.name)?.shareKey === r.shareKey) return 'namedOnly';
  return undefined;
}
