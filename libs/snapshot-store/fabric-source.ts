import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Fabric, FabricSubscription } from '../fabric/port.ts';
import { TypeUrl } from '../xds/protos.ts';
import type { XdsResource } from '../xds/resource.ts';
import type { SnapshotSource } from '../xds/snapshot-cache.ts';
import { buildSnapshot, withResource, type Snapshot } from '../xds/snapshot.ts';
import { ContentCorruptError, type ContentStore } from './content-store.ts';
import { slotOfRef, type Manifest, type ManifestStore, type Pointer } from './manifest.ts';
import { decodeManifestsValue } from './manifest-codec.ts';

export interface SourceHooks {
  onContent?(outcome: 'hit' | 'miss' | 'corrupt' | 'missing'): void;
  onStaleManifest?(): void;
}

/**
 * How long a gateway waits, after asking for a service nothing has published yet, before telling
 * its streams the service does not exist: the owning projector publishes on demand (a debounce
 * and a few KV writes), and a client told "absent" first would fail its first calls.
 */
export const SERVICE_DEMAND_GRACE_MS = 1500;

type Section = 'resources' | 'namedOnly';

interface Entry {
  /** The mesh of the proxy (or service) whose shared pointers the manifest names. */
  readonly mesh: string;
  /** A service's by-name resources: watchers also hear `undefined` once the store is known to have none. */
  readonly announceAbsent: boolean;
  /** Whether the stored value has been read (or a manifest applied) at least once. */
  known: boolean;
  /** A service nothing has published yet: when its watchers are told it does not exist. */
  absentTimer?: NodeJS.Timeout;
  readonly watchers: Set<(s: Snapshot | undefined) => void>;
  readonly sub: FabricSubscription;
  /** Position of the manifest being served (or loading): older ones are ignored. */
  position: number;
  /**
   * Shared pointers this proxy's manifest refers to, by section. The manifest itself is not
   * kept (at thousands of proxies its hashes were a large share of a gateway's memory): a moved
   * pointer replaces one resource of the snapshot.
   */
  shared: string[];
  sharedNamedOnly: string[] | undefined;
  snapshot: Snapshot | undefined;
  /** The proxy's queued work (manifests to apply, pointer moves), in order; `queued` counts what has not finished. */
  chain: Promise<void>;
  queued: number;
}

/** A shared pointer followed for the proxies whose manifests refer to it. */
interface SharedPointer {
  /** The key in `pointers`; every entry that follows the pointer keeps this same string. */
  readonly key: string;
  readonly mesh: string;
  /** The slot (see XdsResource.shareKey) and the name of the resource it holds. */
  readonly slot: string;
  readonly name: string;
  readonly sub: FabricSubscription;
  readonly refs: Set<string>;
  value: Pointer | undefined;
  loaded: Promise<void>;
  chain: Promise<void>;
}

/** The shared pointers an entry follows (kept as small arrays: a map per proxy cost ~1 KB). */
const followed = (e: Entry): string[] => (e.sharedNamedOnly ? [...e.shared, ...e.sharedNamedOnly] : e.shared);

/**
 * A gateway's view of the projectors' output: for each watched proxy, a subscription to the
 * writes of its manifest key (ManifestStore.onManifest) plus a read of the current value;
 * content by hash from a bounded LRU in front of the content store. A manifest older
 * than the one served is ignored, so a proxy never goes back to an older configuration. A
 * corrupt or missing content object is logged, counted and refetched, and never served.
 */
export class FabricSnapshotSource implements SnapshotSource {
  private readonly entries = new Map<string, Entry>();
  private readonly pointers = new Map<string, SharedPointer>();
  private readonly cache: LRUCache<string, XdsResource>;
  private closed = false;
  private readonly stopReconnects: () => void;
  /** This gateway's name in the demands it registers for services (ManifestStore.demand). */
  private readonly demandAs: string;

  constructor(
    fabric: Fabric,
    private readonly manifests: ManifestStore,
    private readonly content: ContentStore,
    private readonly logger: Logger,
    private readonly hooks: SourceHooks = {},
    opts: { cacheBytes?: number; demandAs?: string } = {},
  ) {
    this.demandAs = opts.demandAs ?? 'gateway';
    this.cache = new LRUCache<string, XdsResource>({
      maxSize: opts.cacheBytes ?? 64 * 1024 * 1024,
      // The bytes, plus the response encodings made from them once served (about the same again).
      sizeCalculation: (r) => 2 * r.bytes.length + r.name.length + 256,
    });
    this.stopReconnects = fabric.onReconnect(() => this.reload());
  }

  /** Bytes held by the content cache (for the cache-memory metric). */
  get cacheBytes(): number {
    return this.cache.calculatedSize;
  }

  watch(proxyKey: string, onSnapshot: (s: Snapshot | undefined) => void): () => void {
    return this.watchKey(proxyKey, proxyKey.slice(0, proxyKey.indexOf('.')), false, onSnapshot);
  }

  /**
   * A service's by-name resources, from the manifest stored under its service key: followed only
   * while some stream of this gateway asks for the service, and shared by all of them.
   */
  watchService(mesh: string, service: string, onService: (s: Snapshot | undefined) => void): () => void {
    return this.watchKey(this.manifests.serviceKey(mesh, service), mesh, true, onService);
  }

  private watchKey(proxyKey: string, mesh: string, announceAbsent: boolean, onSnapshot: (s: Snapshot | undefined) => void): () => void {
    let entry = this.entries.get(proxyKey);
    if (!entry) {
      const sub = this.manifests.onManifest(proxyKey, (data) => {
        if (data.length === 0) return;
        const e = this.entries.get(proxyKey);
        if (!e) return;
        this.enqueue(proxyKey, e, async () => this.apply(proxyKey, e, await this.manifests.decode(data)));
      });
      entry = { mesh, announceAbsent, known: false, watchers: new Set(), sub, position: -1, shared: [], sharedNamedOnly: undefined, snapshot: undefined, chain: Promise.resolve(), queued: 0 };
      this.entries.set(proxyKey, entry);
      // Projectors publish a service's by-name resources only while some gateway asks for them.
      if (announceAbsent) this.manifests.demand(proxyKey, this.demandAs).catch((err) => this.failed(proxyKey, err));
      this.refresh(proxyKey, entry);
    }
    entry.watchers.add(onSnapshot);
    if (entry.snapshot || (entry.announceAbsent && entry.known)) onSnapshot(entry.snapshot);
    const e = entry;
    return () => {
      e.watchers.delete(onSnapshot);
      if (e.watchers.size === 0 && this.entries.get(proxyKey) === e) {
        this.entries.delete(proxyKey);
        e.sub.unsubscribe();
        clearTimeout(e.absentTimer);
        if (e.announceAbsent && !this.closed) this.manifests.withdraw(proxyKey, this.demandAs).catch((err) => this.failed(proxyKey, err));
        for (const k of followed(e)) this.release(k, proxyKey);
      }
    };
  }

  /** Whether some stream of this gateway follows the service of `serviceKey` (so its demand must stay). */
  demands(serviceKey: string): boolean {
    return this.entries.get(serviceKey)?.announceAbsent === true;
  }

  /**
   * This gateway's demand for a service it still follows disappeared (a sweep that thought this
   * gateway dead, or a restart under the same id racing its own cleanup): writes it again.
   */
  reassert(serviceKey: string): void {
    if (this.closed || !this.demands(serviceKey)) return;
    this.manifests.demand(serviceKey, this.demandAs).catch((err) => this.failed(serviceKey, err));
  }

  /** Reads the stored manifest (after subscribing, and after a reconnect that may have lost messages). */
  private refresh(proxyKey: string, entry: Entry): void {
    this.enqueue(proxyKey, entry, async () => {
      try {
        const stored = await this.manifests.read(proxyKey);
        if (stored) await this.apply(proxyKey, entry, stored.manifest);
      } finally {
        // Nothing stored (or unreadable): a service's watchers learn there is none, rather than
        // wait forever, once its projector had the time to answer the demand.
        if (entry.announceAbsent && !entry.known && this.entries.get(proxyKey) === entry) {
          clearTimeout(entry.absentTimer);
          entry.absentTimer = setTimeout(() => {
            if (!entry.known && this.entries.get(proxyKey) === entry) this.serve(entry, entry.snapshot);
          }, SERVICE_DEMAND_GRACE_MS);
          entry.absentTimer.unref();
        }
      }
    });
  }

  /** Runs `work` after the proxy's queued work. */
  private enqueue(proxyKey: string, e: Entry, work: () => Promise<void> | void): void {
    e.queued++;
    e.chain = e.chain
      .then(work)
      .catch((err) => this.failed(proxyKey, err))
      .finally(() => e.queued--);
  }

  private failed(proxyKey: string, err: unknown): void {
    if (this.closed) return;
    this.logger.error({ component: 'xds-gateway', proxy: proxyKey, err: (err as Error).message }, 'cannot load the proxy\'s configuration; keeping what it has');
  }

  private async apply(proxyKey: string, entry: Entry, m: Manifest): Promise<void> {
    if (m.position < entry.position) {
      this.hooks.onStaleManifest?.();
      return;
    }
    const mesh = entry.mesh;
    const refsOf = (section: Section) => {
      const keys: string[] = [];
      for (const byName of Object.values(m[section])) {
        for (const [name, ref] of Object.entries(byName)) {
          const slot = slotOfRef(name, ref);
          if (slot !== undefined) keys.push(this.follow(mesh, slot, name, proxyKey));
        }
      }
      return keys;
    };
    const shared = refsOf('resources');
    const named = refsOf('namedOnly');
    const keep = new Set([...shared, ...named]);
    for (const k of followed(entry)) if (!keep.has(k)) this.release(k, proxyKey);
    entry.shared = shared;
    entry.sharedNamedOnly = named.length > 0 ? named : undefined;
    await Promise.all([...keep].map((k) => this.pointers.get(k)?.loaded));
    await this.build(proxyKey, entry, m);
  }

  /** Resolves a manifest (pointers at their current values) to a snapshot and hands it to the watchers. */
  private async build(proxyKey: string, entry: Entry, m: Manifest): Promise<void> {
    let snapshot: Snapshot | undefined;
    if (!m.deleted) {
      const mesh = entry.mesh;
      const load = async (refs: Manifest['resources']): Promise<XdsResource[]> => {
        const out: XdsResource[] = [];
        const missing: Promise<XdsResource>[] = [];
        for (const [typeUrl, byName] of Object.entries(refs)) {
          for (const [name, ref] of Object.entries(byName)) {
            // A shared pointer nobody has published yet: leave the resource out until it is.
            const slot = slotOfRef(name, ref);
            const hash = slot !== undefined ? this.pointers.get(this.pointerKey(mesh, slot))?.value?.hash : ref;
            if (!hash) continue;
            const cached = this.cached(hash, name);
            if (cached) {
              this.hooks.onContent?.('hit');
              out.push(cached);
            } else missing.push(this.resource(typeUrl as TypeUrl, name, hash));
          }
        }
        return [...out, ...(await Promise.all(missing))];
      };
      const [main, named] = await Promise.all([load(m.resources), load(m.namedOnly)]);
      const built = buildSnapshot(main, named);
      snapshot = m.changedAt !== undefined ? { ...built, changedAt: m.changedAt } : built;
    }
    if (m.position < entry.position || this.entries.get(proxyKey) !== entry) return;
    entry.position = m.position;
    this.serve(entry, snapshot);
  }

  private serve(entry: Entry, snapshot: Snapshot | undefined): void {
    entry.snapshot = snapshot;
    entry.known = true;
    for (const w of entry.watchers) w(snapshot);
  }

  /**
   * A shared pointer the proxy refers to moved: the same snapshot with that one resource
   * replaced (or added, if it was not published when the manifest was built). Maps of other
   * types are shared with the previous snapshot, so streams can skip them.
   */
  private replaceShared(proxyKey: string, entry: Entry, key: string, resource: XdsResource, changedAt: number | undefined): void {
    const section: Section | undefined = entry.shared.includes(key) ? 'resources' : entry.sharedNamedOnly?.includes(key) ? 'namedOnly' : undefined;
    const old = entry.snapshot;
    if (!old || !section || this.entries.get(proxyKey) !== entry) return;
    const next = withResource(old, section, resource, changedAt);
    if (next !== old) this.serve(entry, next);
  }

  private pointerKey(mesh: string, slot: string): string {
    return `${mesh}\u0000${slot}`;
  }

  /** Starts (or joins) following the shared pointer of a slot holding resource `name`, for a proxy; returns its key. */
  private follow(mesh: string, slot: string, name: string, proxyKey: string): string {
    const key = this.pointerKey(mesh, slot);
    let p = this.pointers.get(key);
    if (!p) {
      const sub = this.manifests.onPointer(mesh, slot, (data) => {
        if (data.length === 0) return;
        const ptr = this.pointers.get(key);
        const v = ptr && decodeManifestsValue(data);
        if (ptr && v && v.kind === 'pointer') this.update(ptr, v.pointer);
      });
      const created: SharedPointer = { key, mesh, slot, name, sub, refs: new Set(), value: undefined, loaded: Promise.resolve(), chain: Promise.resolve() };
      created.loaded = this.manifests
        .readPointer(mesh, slot)
        .then((v) => {
          if (v && (!created.value || v.position >= created.value.position)) created.value = v;
        })
        .catch((err) => this.failed(`${mesh}/${slot}`, err));
      this.pointers.set(key, created);
      p = created;
    }
    p.refs.add(proxyKey);
    // The pointer's own key string, not the one just built: 20 follows per proxy kept a copy each (~1 KB a stream).
    return p.key;
  }

  private release(key: string, proxyKey: string): void {
    const p = this.pointers.get(key);
    if (!p) return;
    p.refs.delete(proxyKey);
    if (p.refs.size === 0) {
      p.sub.unsubscribe();
      this.pointers.delete(key);
    }
  }

  /** A pointer moved: fetch the new content once, then rebuild every proxy that refers to it. */
  private update(p: SharedPointer, v: Pointer): void {
    p.chain = p.chain
      .then(async () => {
        await p.loaded;
        if (p.value && v.position < p.value.position) {
          this.hooks.onStaleManifest?.();
          return;
        }
        if (p.value?.hash === v.hash) {
          p.value = v;
          return;
        }
        const resource = await this.resource(TypeUrl.ClusterLoadAssignment, p.name, v.hash);
        p.value = v;
        for (const proxyKey of p.refs) {
          const e = this.entries.get(proxyKey);
          if (!e) continue;
          // Behind whatever this proxy already has queued (a manifest being applied reads p.value itself);
          // at once when nothing is, as for nearly every proxy (no promise per proxy per change).
          if (e.queued > 0) this.enqueue(proxyKey, e, () => this.replaceShared(proxyKey, e, p.key, resource, v.changedAt));
          else {
            try {
              this.replaceShared(proxyKey, e, p.key, resource, v.changedAt);
            } catch (err) {
              this.failed(proxyKey, err);
            }
          }
        }
      })
      .catch((err) => this.failed(`${p.mesh}/${p.slot}`, err));
  }

  /**
   * The cached resource with this content under this name. The cache is keyed by hash alone: a
   * key built per lookup (hash + name) cost a string concatenation and hashing at every one of
   * ~60 lookups per connecting proxy. Envoy resources carry their name in their bytes, so one
   * hash under two names does not happen in practice; if it does, the name is swapped in.
   */
  private cached(hash: string, name: string): XdsResource | undefined {
    const r = this.cache.get(hash);
    return r === undefined || r.name === name ? r : { ...r, name };
  }

  private async resource(typeUrl: TypeUrl, name: string, hash: string): Promise<XdsResource> {
    const cached = this.cached(hash, name);
    if (cached) {
      this.hooks.onContent?.('hit');
      return cached;
    }
    this.hooks.onContent?.('miss');
    for (let attempt = 0; ; attempt++) {
      try {
        const bytes = await this.content.get(hash);
        const r: XdsResource = { typeUrl, name, body: {}, bytes, hash };
        this.cache.set(hash, r);
        return r;
      } catch (err) {
        this.hooks.onContent?.(err instanceof ContentCorruptError ? 'corrupt' : 'missing');
        this.logger.warn({ component: 'xds-gateway', hash, name, attempt, err: (err as Error).message }, 'content object unusable; fetching it again');
        if (attempt >= 5 || this.closed) throw err;
        await sleep(100 * 2 ** attempt);
      }
    }
  }

  /** The connection came back: writes delivered while it was down are lost, so every watched manifest and pointer is read again. */
  private reload(): void {
    if (this.closed) return;
    for (const p of this.pointers.values()) {
      p.loaded = this.manifests
        .readPointer(p.mesh, p.slot)
        .then((v) => v && this.update(p, v))
        .catch((err) => this.failed(`${p.mesh}/${p.slot}`, err));
    }
    for (const [key, entry] of this.entries) {
      // A gateway gone from the fabric long enough may have had its demands swept as a dead one's.
      if (entry.announceAbsent) this.reassert(key);
      this.refresh(key, entry);
    }
  }

  close(): void {
    this.closed = true;
    this.stopReconnects();
    for (const e of this.entries.values()) e.sub.unsubscribe();
    for (const p of this.pointers.values()) p.sub.unsubscribe();
    this.entries.clear();
    this.pointers.clear();
  }
}
