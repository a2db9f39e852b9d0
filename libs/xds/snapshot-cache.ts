import type { XdsResource } from './resource.ts';
import type { Snapshot } from './snapshot.ts';

/**
 * The seam between whoever generates snapshots (projectors) and whoever serves them (gateways).
 * `watch` calls `onSnapshot` with the proxy's snapshot as soon as one exists and again
 * whenever it changes (`undefined` when the proxy's Dataplane is gone), until unsubscribed.
 * Calls for one proxy arrive in order; a watcher may be called with an unchanged snapshot.
 */
export interface SnapshotSource {
  watch(proxyKey: string, onSnapshot: (s: Snapshot | undefined) => void): () => void;
}

/** Where a generator puts snapshots: it asks which proxies are wanted, and hands over each new one. */
export interface SnapshotSink {
  /** Whether this proxy's snapshot should be generated here (watched, or in this projector's share). */
  wants(proxyKey: string): boolean;
  /** A new snapshot for the proxy (`undefined`: its Dataplane or mesh is gone). */
  set(proxyKey: string, snapshot: Snapshot | undefined): void;
  /**
   * A sink that serves a mesh's shared ClusterLoadAssignments by reference takes a new one here,
   * and then is not handed the consumers' snapshots for a change that touched only endpoints.
   */
  setShared?(mesh: string, resource: XdsResource, changedAt?: number): void;
}

/** In-process snapshot store. Tells its owner which proxies are watched, so only those are generated. */
export class SnapshotCache implements SnapshotSource, SnapshotSink {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly watchers = new Map<string, Set<(s: Snapshot | undefined) => void>>();

  constructor(private readonly hooks: { onFirstWatch?: (key: string) => void; onLastUnwatch?: (key: string) => void } = {}) {}

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
        this.snapshots.delete(proxyKey);
        this.hooks.onLastUnwatch?.(proxyKey);
      }
    };
  }

  set(proxyKey: string, snapshot: Snapshot | undefined): void {
    if (!this.watchers.has(proxyKey)) return;
    if (snapshot) this.snapshots.set(proxyKey, snapshot);
    else this.snapshots.delete(proxyKey);
    for (const w of this.watchers.get(proxyKey) ?? []) w(snapshot);
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
}
