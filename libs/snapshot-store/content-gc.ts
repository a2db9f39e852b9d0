import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { KV, KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { chunksOf, type ContentStore } from './content-store.ts';
import { isDemandKey, SHARED, type ManifestStore } from './manifest.ts';
import { decodeManifestsValue } from './manifest-codec.ts';

export interface SweepResult {
  /** Content hashes referenced by manifests and shared pointers (chunks not counted). */
  readonly referenced: number;
  /** Content entries (blobs, indexes, chunks) deleted. */
  readonly deleted: number;
  /** Unreferenced entries kept because they are younger than the grace period, or were written again meanwhile. */
  readonly kept: number;
  /** Tombstone manifests (of deleted Dataplanes) removed. */
  readonly tombstones: number;
}

/** A scan that waits this long for the next entry gives up (the sweep is abandoned, nothing deleted on its account). */
const SCAN_IDLE_MS = 10_000;

/**
 * Collects content nothing refers to any more (old versions of resources after changes), and
 * the tombstones of deleted proxies' manifests, so the buckets do not grow forever.
 *
 * Mark: every manifest (and the manifest content it may be stored in) and every shared pointer
 * is read; the hashes they name are live, and so are the chunks of live chunked blobs. Sweep:
 * an unreferenced entry created before `start - grace` is removed with a purge bounded by the
 * revision that was seen, so an entry written again meanwhile survives.
 *
 * Why that is safe while projectors keep writing: a writer refers to content only after writing
 * it, or within `rewriteAfterMs` of having written it (ContentStore), which renews its age. A
 * manifest written after the mark therefore names content created at most `rewriteAfterMs`
 * (plus a write's latency) before it, which is younger than the grace period as long as
 * `grace` is well above `rewriteAfterMs` (the defaults: 1 h and 15 min). A failed or
 * incomplete mark deletes nothing.
 */
export class ContentGc {
  private constructor(
    private readonly jsm: JetStreamManager,
    private readonly content: ContentStore,
    private readonly manifests: ManifestStore,
  ) {}

  static async open(nc: NatsConnection, content: ContentStore, manifests: ManifestStore): Promise<ContentGc> {
    return new ContentGc(await jetstreamManager(nc, { timeout: 10_000 }), content, manifests);
  }

  async sweep(graceMs: number): Promise<SweepResult> {
    const start = Date.now();
    const cutoff = start - graceMs;
    const live = new Set<string>();
    let tombstones = 0;
    for await (const e of lastValues(this.manifests.kv)) {
      if (e.operation !== 'PUT' || e.value.length === 0 || isDemandKey(e.key)) continue;
      const parsed = decodeManifestsValue(e.value);
      if (parsed.kind === 'pointer') {
        live.add(parsed.pointer.hash); // a shared pointer
        continue;
      }
      // A manifest too large for a message is itself content: keep that, and read it as gateways do.
      if (parsed.kind === 'ref') live.add(parsed.ref);
      const m = parsed.kind === 'ref' ? await this.manifests.decode(e.value) : parsed.manifest;
      if (m.deleted) {
        if (e.created.getTime() < cutoff && (await this.purge(this.manifests.bucket, e))) tombstones++;
        continue;
      }
      for (const refs of [m.resources, m.namedOnly]) for (const byName of Object.values(refs)) for (const h of Object.values(byName)) if (!h.startsWith(SHARED)) live.add(h);
    }
    const referenced = live.size;

    // Content keys are c.<hash> (blob), i.<hash> (index of a chunked blob), k.<hash> (chunk).
    const entries: KvEntry[] = [];
    for await (const e of lastValues(this.content.kv, true)) if (e.operation === 'PUT') entries.push(e);
    const liveChunks = new Set<string>();
    for (const e of entries) {
      if (!e.key.startsWith('i.') || !live.has(e.key.slice(2))) continue;
      const index = await this.content.kv.get(e.key);
      if (!index || index.operation !== 'PUT') continue;
      for (const c of chunksOf(index.value)) liveChunks.add(c);
    }
    let deleted = 0;
    let kept = 0;
    for (const e of entries) {
      const hash = e.key.slice(2);
      if (e.key.startsWith('k.') ? liveChunks.has(hash) : live.has(hash)) continue;
      if (e.created.getTime() >= cutoff || !(await this.purge(this.content.bucket, e))) kept++;
      else deleted++;
    }
    return { referenced, deleted, kept, tombstones };
  }

  /**
   * Removes the key's messages up to the revision seen, leaving no marker; a newer revision
   * (written since) survives. Whether the seen revision was removed.
   */
  private async purge(bucket: string, e: KvEntry): Promise<boolean> {
    const r = await this.jsm.streams.purge(`KV_${bucket}`, { filter: `$KV.${bucket}.${e.key}`, seq: e.revision + 1 });
    return r.purged > 0;
  }
}

/** The current entry of every key (values, or headers only), read through one ordered consumer. */
async function* lastValues(kv: KV, headersOnly = false): AsyncGenerator<KvEntry> {
  if ((await kv.status()).values === 0) return;
  const iter = await kv.watch({ key: '>', headers_only: headersOnly });
  let idle: NodeJS.Timeout | undefined;
  let timedOut = false;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      timedOut = true;
      iter.stop();
    }, SCAN_IDLE_MS);
  };
  arm();
  try {
    for await (const e of iter) {
      arm();
      yield e;
      if (e.delta === 0) return;
    }
    // Ended before the last current entry: an incomplete mark must not lead to deletions.
    throw new Error(timedOut ? `reading a bucket stalled for ${SCAN_IDLE_MS} ms` : 'reading a bucket ended early');
  } finally {
    clearTimeout(idle);
    iter.stop();
  }
}
