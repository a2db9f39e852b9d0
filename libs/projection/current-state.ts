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
  private readonly byType = new Map<string, Map<string, Resource>>();
  private readonly versions = new Map<string, number>();

  get position(): number {
    return this.position_;
  }

  apply(e: StoredEvent): void {
    if (e.seq <= this.position_) return;
    this.position_ = e.seq;
    const subject = resourceSubject(e);
    this.versions.set(subject, e.seq);
    let resources = this.byType.get(e.type);
    if (!resources) this.byType.set(e.type, (resources = new Map()));
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

  count(): number {
    let n = 0;
    for (const m of this.byType.values()) n += m.size;
    return n;
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
