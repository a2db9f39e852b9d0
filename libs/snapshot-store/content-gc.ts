import type { FabricBucket, FabricEntry } from '../fabric/port.ts';
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
  constructor(
    private readonly content: ContentStore,
    private readonly manifests: ManifestStore,
  ) {}

  async sweep(graceMs: number): Promise<SweepResult> {
    const start = Date.now();
    const cutoff = start - graceMs;
    const live = new Set<string>();
    let tombstones = 0;
    for await (const e of this.manifests.kv.scan()) {
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
        if (e.created.getTime() < cutoff && (await this.purge(this.manifests.kv, e))) tombstones++;
        continue;
      }
      for (const refs of [m.resources, m.namedOnly]) for (const byName of Object.values(refs)) for (const h of Object.values(byName)) if (!h.startsWith(SHARED)) live.add(h);
    }
    const referenced = live.size;

    // Content keys are c.<hash> (blob), i.<hash> (index of a chunked blob), k.<hash> (chunk).
    const entries: FabricEntry[] = [];
    for await (const e of this.content.kv.scan({ headersOnly: true })) if (e.operation === 'PUT') entries.push(e);
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
      if (e.created.getTime() >= cutoff || !(await this.purge(this.content.kv, e))) kept++;
      else deleted++;
    }
    return { referenced, deleted, kept, tombstones };
  }

  /**
   * Removes the key up to the revision seen, leaving no marker; a newer revision (written
   * since) survives. Whether the seen revision was removed.
   */
  private purge(kv: FabricBucket, e: FabricEntry): Promise<boolean> {
    return kv.purge(e.key, e.revision);
  }
}
