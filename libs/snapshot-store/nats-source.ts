import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { TypeUrl } from '../xds/protos.ts';
import type { XdsResource } from '../xds/resource.ts';
import type { SnapshotSource } from '../xds/snapshot-cache.ts';
import { buildSnapshot, type Snapshot } from '../xds/snapshot.ts';
import { ContentCorruptError, type ContentStore } from './content-store.ts';
import type { Manifest, ManifestStore } from './manifest.ts';

export interface SourceHooks {
  onContent?(outcome: 'hit' | 'miss' | 'corrupt' | 'missing'): void;
  onStaleManifest?(): void;
}

interface Entry {
  readonly watchers: Set<(s: Snapshot | undefined) => void>;
  readonly sub: Subscription;
  /** Position of the manifest being served (or loading): older ones are ignored. */
  position: number;
  snapshot: Snapshot | undefined;
  chain: Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A gateway's view of the projectors' output: for each watched proxy, a core NATS subscription
 * to its manifest key (every stored write is delivered there too) plus a read of the current
 * value; content by hash from a bounded LRU in front of the content store. A manifest older
 * than the one served is ignored, so a proxy never goes back to an older configuration. A
 * corrupt or missing content object is logged, counted and refetched, and never served.
 */
export class NatsSnapshotSource implements SnapshotSource {
  private readonly entries = new Map<string, Entry>();
  private readonly cache: LRUCache<string, XdsResource>;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly manifests: ManifestStore,
    private readonly content: ContentStore,
    private readonly logger: Logger,
    private readonly hooks: SourceHooks = {},
    opts: { cacheBytes?: number } = {},
  ) {
    this.cache = new LRUCache<string, XdsResource>({
      maxSize: opts.cacheBytes ?? 64 * 1024 * 1024,
      sizeCalculation: (r) => r.bytes.length + r.name.length + 160,
    });
    void this.watchReconnects();
  }

  /** Bytes held by the content cache (for the cache-memory metric). */
  get cacheBytes(): number {
    return this.cache.calculatedSize;
  }

  watch(proxyKey: string, onSnapshot: (s: Snapshot | undefined) => void): () => void {
    let entry = this.entries.get(proxyKey);
    if (!entry) {
      const sub = this.nc.subscribe(this.manifests.subject(proxyKey), {
        callback: (err, msg) => {
          if (err || msg.data.length === 0) return;
          const e = this.entries.get(proxyKey);
          if (!e) return;
          e.chain = e.chain.then(async () => this.apply(proxyKey, e, await this.manifests.decode(msg.data))).catch((error) => this.failed(proxyKey, error));
        },
      });
      entry = { watchers: new Set(), sub, position: -1, snapshot: undefined, chain: Promise.resolve() };
      this.entries.set(proxyKey, entry);
      this.refresh(proxyKey, entry);
    }
    entry.watchers.add(onSnapshot);
    if (entry.snapshot) onSnapshot(entry.snapshot);
    const e = entry;
    return () => {
      e.watchers.delete(onSnapshot);
      if (e.watchers.size === 0 && this.entries.get(proxyKey) === e) {
        this.entries.delete(proxyKey);
        e.sub.unsubscribe();
      }
    };
  }

  /** Reads the stored manifest (after subscribing, and after a reconnect that may have lost messages). */
  private refresh(proxyKey: string, entry: Entry): void {
    entry.chain = entry.chain
      .then(async () => {
        const stored = await this.manifests.read(proxyKey);
        if (stored) await this.apply(proxyKey, entry, stored.manifest);
      })
      .catch((err) => this.failed(proxyKey, err));
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
    let snapshot: Snapshot | undefined;
    if (!m.deleted) {
      const load = (refs: Manifest['resources']) =>
        Promise.all(Object.entries(refs).flatMap(([typeUrl, byName]) => Object.entries(byName).map(([name, hash]) => this.resource(typeUrl as TypeUrl, name, hash))));
      const [main, named] = await Promise.all([load(m.resources), load(m.namedOnly)]);
      snapshot = buildSnapshot(main, named);
    }
    if (m.position < entry.position || this.entries.get(proxyKey) !== entry) return;
    entry.position = m.position;
    entry.snapshot = snapshot;
    for (const w of entry.watchers) w(snapshot);
  }

  private async resource(typeUrl: TypeUrl, name: string, hash: string): Promise<XdsResource> {
    const key = `${hash}\u0000${name}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.hooks.onContent?.('hit');
      return cached;
    }
    this.hooks.onContent?.('miss');
    for (let attempt = 0; ; attempt++) {
      try {
        const bytes = await this.content.get(hash);
        const r: XdsResource = { typeUrl, name, body: {}, bytes, hash };
        this.cache.set(key, r);
        return r;
      } catch (err) {
        this.hooks.onContent?.(err instanceof ContentCorruptError ? 'corrupt' : 'missing');
        this.logger.warn({ component: 'xds-gateway', hash, name, attempt, err: (err as Error).message }, 'content object unusable; fetching it again');
        if (attempt >= 5 || this.closed) throw err;
        await sleep(100 * 2 ** attempt);
      }
    }
  }

  private async watchReconnects(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.closed) return;
      if (s.type === 'reconnect') {
        // Core messages sent while disconnected are lost: read every watched manifest again.
        for (const [key, entry] of this.entries) this.refresh(key, entry);
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) e.sub.unsubscribe();
    this.entries.clear();
  }
}
