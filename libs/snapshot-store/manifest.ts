import { createHash } from 'node:crypto';
import { FabricConflictError, type Fabric, type FabricBucket, type FabricSubscription } from '../fabric/port.ts';
import type { Snapshot } from '../xds/snapshot.ts';
import { sha256, type ContentStore } from './content-store.ts';
import { decodeManifestsValue, positionOfValue } from './manifest-codec.ts';

/**
 * What one proxy is served, by reference: type URL -> resource name -> content hash. Small,
 * so a change to a shared resource rewrites only the manifests that name it, and every
 * gateway fetches the content once.
 */
export interface Manifest {
  readonly v: 1;
  readonly proxy: string;
  /** The log position the projector had applied when it generated this: newer wins. */
  readonly position: number;
  readonly generatedBy: string;
  /** Time (ms) of the change this manifest carries, for the event-to-ACK metric. */
  readonly changedAt?: number;
  /** The proxy's Dataplane is gone (or its mesh): serve nothing. */
  readonly deleted?: true;
  readonly resources: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly namedOnly: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * In a manifest, a resource served by reference (XdsResource.shareKey: a service's
 * ClusterLoadAssignment, which changes often) is not named by hash but by this marker and its
 * slot: `@<slot>`, its hash is in the shared pointer of (mesh, slot). A bare `@` names the slot
 * after the resource (the one slot a service has while no policy configures it). An endpoint
 * change then rewrites one pointer per slot, not every consumer's manifest.
 */
export const SHARED = '@';

/** The reference a manifest holds for a resource: its slot if it is served by reference, else its content hash. */
export const refOf = (name: string, r: { readonly hash: string; readonly shareKey?: string }): string =>
  r.shareKey === undefined ? r.hash : r.shareKey === name ? SHARED : SHARED + r.shareKey;

/** The slot a manifest reference names, or `undefined` for a content hash (hex, never starting with '@'). */
export const slotOfRef = (name: string, ref: string): string | undefined => (ref.startsWith(SHARED) ? (ref.length === 1 ? name : ref.slice(1)) : undefined);

function refs(m: ReadonlyMap<string, ReadonlyMap<string, { hash: string; shareKey?: string }>>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [typeUrl, byName] of [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    out[typeUrl] = Object.fromEntries([...byName.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([name, r]) => [name, refOf(name, r)]));
  }
  return out;
}

/** A shared pointer: the current hash of a shared resource of a mesh. */
export interface Pointer {
  readonly hash: string;
  readonly position: number;
  readonly changedAt?: number;
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url').toString('utf8');

/** A gateway's demand for a service (see `ManifestStore.demand`): in the manifests bucket, but not a manifest. */
export const isDemandKey = (key: string): boolean => key.startsWith('_want.');

export function manifestOf(proxy: string, snapshot: Snapshot | undefined, position: number, generatedBy: string): Manifest {
  if (!snapshot) return { v: 1, proxy, position, generatedBy, deleted: true, resources: {}, namedOnly: {} };
  const changedAt = snapshot.changedAt !== undefined ? { changedAt: snapshot.changedAt } : {};
  return { v: 1, proxy, position, generatedBy, ...changedAt, resources: refs(snapshot.resources), namedOnly: refs(snapshot.namedOnly) };
}

/** Identity of what a manifest serves (not who made it or when). */
export function manifestContentHash(m: Manifest): string {
  return createHash('sha256')
    .update(JSON.stringify([m.deleted === true, m.resources, m.namedOnly]))
    .digest('hex');
}

/** A proxy key (or a service's key, see `serviceKey`) as a KV key: mesh and Dataplane names are DNS labels, so only the separator needs care. */
export const manifestKey = (proxy: string): string => proxy;

/**
 * Manifests in a fabric bucket, one key per proxy. Writers are the proxy's projector (and, while
 * shares move, possibly a second one): a write is compare-and-set on the revision it last saw,
 * and a write whose position is older than the stored one is dropped, so the stored manifest
 * only moves forward. A manifest larger than one fabric value is stored in the content store
 * and the key holds a reference to it.
 */
export class ManifestStore {
  private readonly revisions = new Map<string, number>();
  private readonly published = new Map<string, string>();
  private readonly pointerWrites = new Map<string, { hash: string; done: Promise<boolean> }>();

  private constructor(
    readonly kv: FabricBucket,
    readonly bucket: string,
    private readonly content: ContentStore,
    private readonly limit: number,
  ) {}

  static async open(fabric: Fabric, bucket: string, content: ContentStore, opts: { replicas?: number; limit?: number } = {}): Promise<ManifestStore> {
    const kv = await fabric.bucket(bucket, { replicas: opts.replicas ?? 1, description: 'kuma xDS manifests by proxy' });
    return new ManifestStore(kv, bucket, content, Math.min(opts.limit ?? Infinity, fabric.maxValueBytes));
  }

  /** Every later write of a proxy's (or a service key's) manifest, raw (see `decode`; empty for a deletion), with no history (see FabricBucket.onWrite). */
  onManifest(proxy: string, fn: (value: Uint8Array) => void): FabricSubscription {
    return this.kv.onWrite(manifestKey(proxy), fn);
  }

  /**
   * Publishes unless the same content is already what this process last published for the
   * proxy. Returns whether it wrote.
   */
  async publish(m: Manifest): Promise<boolean> {
    const content = manifestContentHash(m);
    if (this.published.get(m.proxy) === content) return false;
    const wrote = await this.write(manifestKey(m.proxy), await this.encode(m), m.position);
    if (wrote) this.published.set(m.proxy, content);
    return wrote;
  }

  /** Every proxy that has a manifest in the bucket (shared pointers', services' and demands' keys start with '_'). */
  async proxies(): Promise<string[]> {
    const out: string[] = [];
    for await (const key of this.kv.keys()) if (!key.startsWith('_')) out.push(key);
    return out;
  }

  /**
   * The key of a service's by-name resources (what a proxyless client asking for the service by
   * name is served), stored as a manifest under this key: written by one projector, followed by
   * the gateways whose clients ask for it. It starts with '_', so it is not a proxy.
   */
  serviceKey(mesh: string, service: string): string {
    return `_svc.${b64(mesh)}.${b64(service)}`;
  }

  /** The mesh and service of a `serviceKey`, or undefined if `key` is not one. */
  parseServiceKey(key: string): { readonly mesh: string; readonly service: string } | undefined {
    const [prefix, mesh, service, extra] = key.split('.');
    return prefix === '_svc' && mesh !== undefined && service !== undefined && extra === undefined ? { mesh: unb64(mesh), service: unb64(service) } : undefined;
  }

  /**
   * A gateway's demand for a service's by-name resources: one key per gateway that follows the
   * service (`_want.<mesh>.<service>.<gateway>`), so projectors publish only what some client asks for.
   */
  private demandKey(serviceKey: string, gateway: string): string {
    return `_want.${serviceKey.slice('_svc.'.length)}.${b64(gateway)}`;
  }

  /** The service key and the gateway of a demand key, or undefined if `key` is not one. */
  parseDemandKey(key: string): { readonly serviceKey: string; readonly gateway: string } | undefined {
    const [prefix, mesh, service, gateway, extra] = key.split('.');
    if (prefix !== '_want' || mesh === undefined || service === undefined || gateway === undefined || extra !== undefined) return undefined;
    return { serviceKey: `_svc.${mesh}.${service}`, gateway: unb64(gateway) };
  }

  async demand(serviceKey: string, gateway: string): Promise<void> {
    await this.kv.put(this.demandKey(serviceKey, gateway), '1');
  }

  async withdraw(serviceKey: string, gateway: string): Promise<void> {
    await this.kv.delete(this.demandKey(serviceKey, gateway));
  }

  /**
   * Follows the demands: `onChange(serviceKey, true)` when the first gateway asks for a service,
   * `false` when the last one stops. Current demands are delivered first. Returns a stop function.
   */
  async watchDemand(onChange: (serviceKey: string, demanded: boolean) => void, onError: (err: Error) => void): Promise<() => void> {
    const byService = new Map<string, Set<string>>();
    const w = await this.kv.watch(
      (e) => {
        const [, mesh, service, gateway] = e.key.split('.');
        if (mesh === undefined || service === undefined || gateway === undefined) return;
        const key = `_svc.${mesh}.${service}`;
        let gateways = byService.get(key);
        if (e.operation === 'PUT') {
          if (!gateways) byService.set(key, (gateways = new Set()));
          const first = gateways.size === 0;
          gateways.add(gateway);
          if (first) onChange(key, true);
        } else if (gateways?.delete(gateway) && gateways.size === 0) {
          byService.delete(key);
          onChange(key, false);
        }
      },
      { prefix: '_want.' },
    );
    w.done.catch(onError);
    return () => w.stop();
  }

  /** Every service with by-name resources stored in the bucket (see `serviceKey`). */
  async services(): Promise<{ readonly key: string; readonly mesh: string; readonly service: string }[]> {
    const out: { key: string; mesh: string; service: string }[] = [];
    for await (const key of this.kv.keys('_svc.')) {
      const [, mesh, service] = key.split('.');
      if (mesh !== undefined && service !== undefined) out.push({ key, mesh: unb64(mesh), service: unb64(service) });
    }
    return out;
  }

  pointerKey(mesh: string, slot: string): string {
    return `_eds.${b64(mesh)}.${b64(slot)}`;
  }

  /** Every later write of the pointer of (mesh, slot), raw (see `decodeManifestsValue`; empty for a deletion), with no history. */
  onPointer(mesh: string, slot: string, fn: (value: Uint8Array) => void): FabricSubscription {
    return this.kv.onWrite(this.pointerKey(mesh, slot), fn);
  }

  /** Points the slot (mesh, slot) (see XdsResource.shareKey) at `hash`, with the same forward-only rule as manifests. */
  async publishPointer(mesh: string, slot: string, hash: string, position: number, changedAt?: number): Promise<boolean> {
    const key = this.pointerKey(mesh, slot);
    if (this.published.get(key) === hash) return false;
    // Many proxies' snapshots carry the same new pointer at once: write it once.
    const inflight = this.pointerWrites.get(key);
    if (inflight?.hash === hash) return inflight.done.then(() => false);
    const done = (async () => {
      await inflight?.done.catch(() => undefined);
      const wrote = await this.write(key, Buffer.from(JSON.stringify({ hash, position, ...(changedAt !== undefined ? { changedAt } : {}) } satisfies Pointer)), position);
      if (wrote) this.published.set(key, hash);
      return wrote;
    })();
    this.pointerWrites.set(key, { hash, done });
    try {
      return await done;
    } finally {
      if (this.pointerWrites.get(key)?.done === done) this.pointerWrites.delete(key);
    }
  }

  async readPointer(mesh: string, slot: string): Promise<Pointer | undefined> {
    const e = await this.kv.get(this.pointerKey(mesh, slot));
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return undefined;
    const v = decodeManifestsValue(e.value);
    return v.kind === 'pointer' ? v.pointer : undefined;
  }

  /** Compare-and-set on the last revision seen; never replaces a value with a newer position. */
  private async write(key: string, data: Uint8Array, position: number): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let rev = this.revisions.get(key);
      if (rev === undefined) {
        const current = await this.kv.get(key);
        const live = current && current.operation === 'PUT' && current.value.length > 0;
        if (live && positionOfValue(current.value) > position) return false;
        rev = current?.revision ?? 0;
      }
      try {
        const next = rev === 0 ? await this.kv.create(key, data) : await this.kv.update(key, data, rev);
        this.revisions.set(key, next);
        return true;
      } catch (err) {
        if (!(err instanceof FabricConflictError)) throw err;
        this.revisions.delete(key); // someone else wrote: read theirs and compare positions
      }
    }
    return false;
  }

  /** Forgets what this process published (its share moved away): a later publish reads first. */
  forget(proxy: string): void {
    this.revisions.delete(manifestKey(proxy));
    this.published.delete(proxy);
  }

  async read(proxy: string): Promise<{ manifest: Manifest; revision: number } | undefined> {
    const e = await this.kv.get(manifestKey(proxy));
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return undefined;
    return { manifest: await this.decode(e.value), revision: e.revision };
  }

  async encode(m: Manifest): Promise<Uint8Array> {
    const json = Buffer.from(JSON.stringify(m));
    if (json.length <= this.limit) return json;
    const hash = sha256(json);
    await this.content.put(hash, json);
    return Buffer.from(JSON.stringify({ ref: hash, proxy: m.proxy, position: m.position }));
  }

  /**
   * Reads a stored manifest, JSON (what writers write: faster than proto here, see
   * test/bench/wire.ts) or a `kuma_es.v1.ManifestsEntry`, following a reference to content.
   */
  async decode(data: Uint8Array): Promise<Manifest> {
    let v = decodeManifestsValue(data);
    if (v.kind === 'ref') v = decodeManifestsValue(await this.content.get(v.ref));
    if (v.kind !== 'manifest') throw new Error('manifests bucket: expected a manifest, found a pointer');
    return v.manifest;
  }
}
