import { createHash } from 'node:crypto';
import stringify from 'safe-stable-stringify';
import type { StoredEvent } from '../event-log/event.ts';
import { resourceSubject } from '../event-log/subject.ts';
import type { Resource, ResourceKey } from '../resources/resource.ts';

/** The stored resource an upsert event describes. */
export function resourceOf(e: StoredEvent & { op: 'upsert' }): Resource {
  return {
    meta: {
      type: e.type,
      ...(e.mesh !== undefined ? { mesh: e.mesh } : {}),
      name: e.name,
      labels: e.resource.labels,
      creationTime: e.resource.creationTime,
      modificationTime: e.resource.modificationTime,
      version: e.seq,
    },
    spec: e.resource.spec,
  };
}

/**
 * The state of every resource as of `position`: a fold of the log (`apply` is evolve).
 * Also remembers each resource's latest version including deletions, which is what
 * writers pass as the expected version.
 *
 * Only `apply` mutates; callers must apply events in sequence order. Resources handed
 * out are immutable.
 */
export class CurrentState {
  private position_ = 0;
  private positionTime_ = '';
  private readonly byType = new Map<string, Map<string, Resource>>();
  private readonly versions = new Map<string, number>();

  get position(): number {
    return this.position_;
  }

  /** The time of the event at `position` ('' before the first). */
  get positionTime(): string {
    return this.positionTime_;
  }

  /** Types this state keeps; every type unless `retain` narrowed it. */
  private keep: ReadonlySet<string> | undefined;

  /**
   * Keeps only resources of `types` from now on, dropping the others (a gateway needs Meshes,
   * Dataplanes, secrets and identities, not policies): events of other types applied still move
   * the position (a projection that follows only `types` moves it with `skipTo` instead). Such a
   * state is no checkpoint.
   */
  retain(types: ReadonlySet<string>): void {
    this.keep = types;
    for (const type of [...this.byType.keys()]) if (!types.has(type)) this.byType.delete(type);
    // Versions are by subject, `<mesh>.<type>.<name>` (type names need no escaping), tombstones too.
    for (const subject of [...this.versions.keys()]) if (!types.has(subject.split('.')[1]!)) this.versions.delete(subject);
  }

  /** Moves the position to `seq` without an event: a filtered follow knows every event up to it is of a type this state does not keep. */
  skipTo(seq: number): void {
    if (seq > this.position_) this.position_ = seq;
  }

  apply(e: StoredEvent): void {
    if (e.seq <= this.position_) return;
    this.position_ = e.seq;
    this.positionTime_ = e.time;
    if (this.keep && !this.keep.has(e.type)) return;
    const subject = resourceSubject(e);
    this.versions.set(subject, e.seq);
    const resources = this.typeMap(e.type);
    switch (e.op) {
      case 'upsert':
        resources.set(subject, resourceOf(e));
        break;
      case 'delete':
        resources.delete(subject);
        break;
      default: {
        const never: never = e;
        throw new Error(`unknown event op ${(never as { op: string }).op}`);
      }
    }
  }

  private typeMap(type: string): Map<string, Resource> {
    let resources = this.byType.get(type);
    if (!resources) this.byType.set(type, (resources = new Map()));
    return resources;
  }

  get(key: ResourceKey): Resource | undefined {
    return this.byType.get(key.type)?.get(resourceSubject(key));
  }

  /** The resource's latest version, tombstones included; 0 if it was never written. */
  version(key: ResourceKey): number {
    return this.versions.get(resourceSubject(key)) ?? 0;
  }

  /** Resources of a type, optionally in one mesh, sorted by mesh then name (Kuma's order). */
  list(type: string, mesh?: string): Resource[] {
    const all = [...(this.byType.get(type)?.values() ?? [])];
    const filtered = mesh === undefined ? all : all.filter((r) => r.meta.mesh === mesh);
    return filtered.sort((a, b) => cmp(a.meta.mesh ?? '', b.meta.mesh ?? '') || cmp(a.meta.name, b.meta.name));
  }

  /** Every resource in a mesh, of every mesh-scoped type. */
  inMesh(mesh: string): Resource[] {
    const out: Resource[] = [];
    for (const resources of this.byType.values()) for (const r of resources.values()) if (r.meta.mesh === mesh) out.push(r);
    return out;
  }

  snapshot(): StateSnapshot {
    const resources: Resource[] = [];
    for (const type of [...this.byType.keys()].sort()) resources.push(...this.list(type));
    return {
      position: this.position_,
      positionTime: this.positionTime_,
      resources,
      versions: [...this.versions.entries()].sort((a, b) => cmp(a[0], b[0])),
    };
  }

  static fromSnapshot(s: StateSnapshot): CurrentState {
    const state = new CurrentState();
    state.position_ = s.position;
    state.positionTime_ = s.positionTime;
    for (const [subject, version] of s.versions) state.versions.set(subject, version);
    for (const r of s.resources) state.typeMap(r.meta.type).set(resourceSubject(r.meta), r);
    return state;
  }

  /**
   * One hash per resource subject: of the version and canonical JSON of the resource, or the
   * version of a tombstone. Two states are equal exactly when their fingerprints are.
   */
  fingerprints(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [subject, version] of this.versions) out.set(subject, `${version}:-`);
    for (const resources of this.byType.values()) {
      for (const [subject, r] of resources) {
        out.set(subject, createHash('sha256').update(stringify(r) ?? '').digest('base64url'));
      }
    }
    return out;
  }

  count(): number {
    let n = 0;
    for (const m of this.byType.values()) n += m.size;
    return n;
  }
}

/**
 * Everything a CurrentState holds, as plain data: what a checkpoint stores. Resources are in
 * Kuma's list order, versions (tombstones included) sorted by subject.
 */
export interface StateSnapshot {
  readonly position: number;
  readonly positionTime: string;
  readonly resources: readonly Resource[];
  readonly versions: readonly (readonly [string, number])[];
}

/** A digest of a whole state: sha256 over its fingerprints in subject order. */
export function digestOf(prints: ReadonlyMap<string, string>): string {
  const h = createHash('sha256');
  for (const subject of [...prints.keys()].sort()) h.update(`${subject}=${prints.get(subject)}\n`);
  return `sha256:${h.digest('hex')}`;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
