import { createHash } from 'node:crypto';
import { TYPE_ORDER, type TypeUrl } from './protos.ts';
import type { XdsResource } from './resource.ts';

/**
 * Everything one proxy may be served. Immutable once built.
 * - `resources`: served to wildcard subscribers (Envoy's LDS/CDS) and by name;
 * - `namedOnly`: served only when a client names them (proxyless gRPC listeners), because
 *   they are not valid for Envoy.
 */
export interface Snapshot {
  readonly resources: ReadonlyMap<TypeUrl, ReadonlyMap<string, XdsResource>>;
  readonly namedOnly: ReadonlyMap<TypeUrl, ReadonlyMap<string, XdsResource>>;
  /** Time (ms) of the change that produced this snapshot; absent for a first one. For the event-to-ACK metric. */
  readonly changedAt?: number;
}

/** Thrown when two different resources of one type would share a name (e.g. colliding inbounds). */
export class ResourceCollisionError extends Error {
  override readonly name = 'ResourceCollisionError';
}

export function buildSnapshot(resources: readonly XdsResource[], namedOnly: readonly XdsResource[] = []): Snapshot {
  const index = (list: readonly XdsResource[], into: Map<TypeUrl, Map<string, XdsResource>>, other?: Map<TypeUrl, Map<string, XdsResource>>) => {
    for (const r of list) {
      let byName = into.get(r.typeUrl);
      if (!byName) into.set(r.typeUrl, (byName = new Map()));
      const existing = byName.get(r.name) ?? other?.get(r.typeUrl)?.get(r.name);
      if (existing && existing.hash !== r.hash) throw new ResourceCollisionError(`two different ${r.typeUrl.split('.').pop()} resources named "${r.name}"`);
      if (!other?.get(r.typeUrl)?.has(r.name)) byName.set(r.name, r);
    }
  };
  const main = new Map<TypeUrl, Map<string, XdsResource>>();
  const named = new Map<TypeUrl, Map<string, XdsResource>>();
  index(resources, main);
  index(namedOnly, named, main);
  return { resources: main, namedOnly: named };
}

/**
 * The snapshot with one resource put into `section` (replacing the one of the same type and
 * name). Maps of the other types, and the other section, are the previous snapshot's own
 * objects, so streams can tell those did not change. The same snapshot if nothing changes.
 */
export function withResource(old: Snapshot, section: 'resources' | 'namedOnly', resource: XdsResource, changedAt?: number): Snapshot {
  if (old[section].get(resource.typeUrl)?.get(resource.name) === resource) return old;
  const maps = new Map(old[section]);
  maps.set(resource.typeUrl, new Map(old[section].get(resource.typeUrl)).set(resource.name, resource));
  return {
    resources: section === 'resources' ? maps : old.resources,
    namedOnly: section === 'namedOnly' ? maps : old.namedOnly,
    ...(changedAt !== undefined ? { changedAt } : {}),
  };
}

/**
 * `base` with `extras` added to its `namedOnly` section where `base` has no resource of that
 * type and name (the proxy's own resources win). Maps of types the extras add nothing to are
 * `base`'s own objects, so streams can tell those did not change. `base` itself if nothing is added.
 */
export function withNamedOnly(base: Snapshot, extras: Iterable<XdsResource>): Snapshot {
  let maps: Map<TypeUrl, Map<string, XdsResource>> | undefined;
  for (const r of extras) {
    if (base.resources.get(r.typeUrl)?.has(r.name) || base.namedOnly.get(r.typeUrl)?.has(r.name)) continue;
    maps ??= new Map(base.namedOnly as Map<TypeUrl, Map<string, XdsResource>>);
    let byName = maps.get(r.typeUrl);
    if (!byName || byName === base.namedOnly.get(r.typeUrl)) maps.set(r.typeUrl, (byName = new Map(byName)));
    byName.set(r.name, r);
  }
  if (!maps) return base;
  return { resources: base.resources, namedOnly: maps, ...(base.changedAt !== undefined ? { changedAt: base.changedAt } : {}) };
}

/** Whether two snapshots serve the same resources (the same names at the same hashes, in the same sections). */
export function sameContent(a: Snapshot | undefined, b: Snapshot | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const same = (x: Snapshot['resources'], y: Snapshot['resources']) => {
    if (x.size !== y.size) return false;
    for (const [typeUrl, byName] of x) {
      const other = y.get(typeUrl);
      if (!other || other.size !== byName.size) return false;
      for (const [name, r] of byName) if (other.get(name)?.hash !== r.hash) return false;
    }
    return true;
  };
  return same(a.resources, b.resources) && same(a.namedOnly, b.namedOnly);
}

/** Resources of a type a request resolves to: all wildcard ones, or the named ones that exist. */
export function select(snapshot: Snapshot, typeUrl: TypeUrl, names: ReadonlySet<string> | 'wildcard'): XdsResource[] {
  const main = snapshot.resources.get(typeUrl);
  if (names === 'wildcard') return main ? [...main.values()] : [];
  const named = snapshot.namedOnly.get(typeUrl);
  const out: XdsResource[] = [];
  for (const n of names) {
    const r = main?.get(n) ?? named?.get(n);
    if (r) out.push(r);
  }
  return out;
}

/** Per resource, 64 bits of SHA-256(name, hash) as two 32-bit lanes; made once per resource object. */
const fingerprints = new WeakMap<XdsResource, { readonly hi: number; readonly lo: number }>();
function fingerprint(r: XdsResource): { readonly hi: number; readonly lo: number } {
  let f = fingerprints.get(r);
  if (!f) {
    const d = createHash('sha256').update(`${r.name}\0${r.hash}`).digest();
    fingerprints.set(r, (f = { hi: d.readUInt32BE(0), lo: d.readUInt32BE(4) }));
  }
  return f;
}

/**
 * A deterministic version for a set of resources: the same content gives the same version
 * on every gateway, so a proxy that reconnects elsewhere is not sent what it already has.
 * It is the lane-wise sum (mod 2^32) of the resources' fingerprints, so it does not depend on
 * order and costs no hashing per response; two different sets share a version with
 * probability about 2^-64.
 */
export function versionOf(resources: Iterable<XdsResource>): string {
  let hi = 0;
  let lo = 0;
  for (const r of resources) {
    const f = fingerprint(r);
    hi = (hi + f.hi) >>> 0;
    lo = (lo + f.lo) >>> 0;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

export function snapshotTypes(): readonly TypeUrl[] {
  return TYPE_ORDER;
}
