import stringify from 'safe-stable-stringify';
import type { Actor, NewEvent } from '../../libs/event-log/event.ts';
import type { BatchItem } from '../../libs/event-log/port.ts';
import type { CurrentState } from '../../libs/projection/current-state.ts';
import type { Resource, ResourceKey } from '../../libs/resources/resource.ts';

export interface RestoreChange {
  readonly operation: 'create' | 'update' | 'delete';
  readonly type: string;
  readonly mesh?: string;
  readonly name: string;
  /** The resource's version now (tombstones included): what the restore expects it still is. */
  readonly version: number;
  /** The version being brought back (null for a delete). */
  readonly restoredVersion: number | null;
}

export interface RestoreScope {
  /** Only this mesh: the Mesh itself and everything in it. */
  readonly mesh?: string;
  /** Every type to consider. */
  readonly types: readonly { readonly name: string; readonly scope: 'Mesh' | 'Global' }[];
  /** Resources the restore never touches (system-managed ones, like the token signing key). */
  readonly skip: (key: ResourceKey) => boolean;
}

function inScope(state: CurrentState, scope: RestoreScope): Resource[] {
  const out: Resource[] = [];
  for (const t of scope.types) {
    if (scope.mesh === undefined) out.push(...state.list(t.name));
    else if (t.scope === 'Mesh') out.push(...state.list(t.name, scope.mesh));
    else if (t.name === 'Mesh') {
      const m = state.get({ type: 'Mesh', name: scope.mesh });
      if (m) out.push(m);
    }
  }
  return out.filter((r) => !scope.skip(r.meta));
}

const keyOf = (r: Resource) => `${r.meta.type}\u0000${r.meta.mesh ?? ''}\u0000${r.meta.name}`;
const content = (r: Resource) => stringify({ labels: r.meta.labels, spec: r.spec });
/** Meshes are created before what they contain, and deleted after it. */
const rank = (c: RestoreChange) => (c.operation === 'delete' ? (c.type === 'Mesh' ? 3 : 2) : c.type === 'Mesh' ? 0 : 1);

/** What brings `current` back to `target` within the scope: a pure decision, ordered for appending. */
export function planRestore(target: CurrentState, current: CurrentState, scope: RestoreScope): RestoreChange[] {
  const wanted = new Map(inScope(target, scope).map((r) => [keyOf(r), r]));
  const present = new Map(inScope(current, scope).map((r) => [keyOf(r), r]));
  const changes: RestoreChange[] = [];
  const id = (r: Resource) => ({ type: r.meta.type, ...(r.meta.mesh !== undefined ? { mesh: r.meta.mesh } : {}), name: r.meta.name });
  for (const [k, want] of wanted) {
    const now = present.get(k);
    if (!now) changes.push({ operation: 'create', ...id(want), version: current.version(want.meta), restoredVersion: want.meta.version });
    else if (now.meta.version !== want.meta.version && content(now) !== content(want)) {
      changes.push({ operation: 'update', ...id(want), version: now.meta.version, restoredVersion: want.meta.version });
    }
  }
  for (const [k, now] of present) {
    if (!wanted.has(k)) changes.push({ operation: 'delete', ...id(now), version: now.meta.version, restoredVersion: null });
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return changes.sort((a, b) => rank(a) - rank(b) || cmp(a.type, b.type) || cmp(a.mesh ?? '', b.mesh ?? '') || cmp(a.name, b.name));
}

/** The events of a plan, each expecting the version the plan was made against. */
export function restoreEvents(
  plan: readonly RestoreChange[],
  target: CurrentState,
  ctx: { readonly actor: Actor; readonly now: Date; readonly newId: () => string },
): BatchItem[] {
  return plan.map((c) => {
    const key = { type: c.type, ...(c.mesh !== undefined ? { mesh: c.mesh } : {}), name: c.name };
    const base = { id: ctx.newId(), time: ctx.now.toISOString(), actor: ctx.actor, ...key };
    let event: NewEvent;
    if (c.operation === 'delete') event = { ...base, op: 'delete' };
    else {
      const r = target.get(key)!;
      event = {
        ...base,
        op: 'upsert',
        resource: { labels: r.meta.labels, creationTime: r.meta.creationTime, modificationTime: ctx.now.toISOString(), spec: r.spec },
      };
    }
    return { event, expectedVersion: c.version };
  });
}
