import { createHash } from 'node:crypto';
import type { Fabric, FabricBucket, FabricEntry } from '../fabric/port.ts';
import { LRUCache } from 'lru-cache';

/** Content that should exist is not in the store (yet, or any more). */
export class ContentMissingError extends Error {
  override readonly name = 'ContentMissingError';
}

/** Content whose bytes do not hash to its address: never served. */
export class ContentCorruptError extends Error {
  override readonly name = 'ContentCorruptError';
}

const RAW = 0;
const CHUNKED = 1;

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Content-addressed blobs in a fabric bucket. Keys say what an entry is, so the
 * collector (ContentGc) can tell from keys alone:
 * - `c.<sha256>`: a blob, the value its bytes;
 * - `i.<sha256>`: a blob larger than one fabric value, the value an index of its chunks;
 * - `k.<sha256>`: one chunk (itself content-addressed), reachable only through an index.
 * `get` checks the hash of what it reads. A blob is written at most once per process within
 * `rewriteAfterMs`: after that a `put` writes it again, which renews its age, so the collector
 * (which deletes only unreferenced entries older than its grace period, set well above
 * `rewriteAfterMs`) cannot delete what a writer has just referred to without writing it.
 */
export class ContentStore {
  private readonly written: LRUCache<string, true>;

  private constructor(
    readonly kv: FabricBucket,
    readonly bucket: string,
    private readonly chunkSize: number,
    rewriteAfterMs: number,
  ) {
    this.written = new LRUCache<string, true>({ max: 200_000, ttl: rewriteAfterMs });
  }

  static async open(fabric: Fabric, bucket: string, opts: { replicas?: number; chunkSize?: number; rewriteAfterMs?: number } = {}): Promise<ContentStore> {
    const kv = await fabric.bucket(bucket, { replicas: opts.replicas ?? 1, description: 'kuma xDS content by sha256' });
    const limit = fabric.maxValueBytes;
    return new ContentStore(kv, bucket, Math.min(opts.chunkSize ?? limit, limit), opts.rewriteAfterMs ?? 15 * 60_000);
  }

  /** Stores `bytes` under `hash` (their sha256) unless this process did within `rewriteAfterMs`. */
  async put(hash: string, bytes: Uint8Array): Promise<void> {
    await this.write(hash, bytes, 'c');
  }

  private async write(hash: string, bytes: Uint8Array, kind: 'c' | 'k'): Promise<void> {
    const key = `${kind}.${hash}`;
    if (this.written.has(key)) return;
    if (bytes.length + 1 <= this.chunkSize) {
      await this.kv.put(key, withTag(RAW, bytes));
    } else {
      const chunks: string[] = [];
      for (let off = 0; off < bytes.length; off += this.chunkSize - 1) {
        const chunk = bytes.subarray(off, off + this.chunkSize - 1);
        const h = sha256(chunk);
        await this.write(h, chunk, 'k');
        chunks.push(h);
      }
      await this.kv.put(`i.${hash}`, withTag(CHUNKED, Buffer.from(JSON.stringify({ size: bytes.length, chunks }))));
    }
    this.written.set(key, true);
  }

  /** The bytes at `hash`, verified. */
  async get(hash: string): Promise<Uint8Array> {
    return this.read(hash, 'c');
  }

  private async read(hash: string, kind: 'c' | 'k'): Promise<Uint8Array> {
    // A blob is under c. unless it was chunked (i.); the second read happens only for those, and for missing content.
    const entry = live(await this.kv.get(`${kind}.${hash}`)) ?? (kind === 'c' ? live(await this.kv.get(`i.${hash}`)) : undefined);
    if (!entry) throw new ContentMissingError(`content ${hash} is not in the store`);
    const value = entry.value;
    let bytes: Uint8Array;
    // A copy: the value is a view into the connection's read buffer (64 KB), which a cached
    // view would keep alive (in a 5,000-stream gateway that was ~45 MB).
    if (value[0] === RAW) bytes = new Uint8Array(value.subarray(1));
    else if (value[0] === CHUNKED) {
      const parts = await Promise.all(chunksOf(value).map((c) => this.read(c, 'k')));
      bytes = Buffer.concat(parts);
    } else throw new ContentCorruptError(`content ${hash} has an unknown encoding ${value[0]}`);
    if (sha256(bytes) !== hash) throw new ContentCorruptError(`content ${hash} does not match its hash`);
    return bytes;
  }
}

const live = (e: FabricEntry | undefined): FabricEntry | undefined => (e && e.operation === 'PUT' && e.value.length > 0 ? e : undefined);

/** The chunk hashes of an index entry's value. */
export function chunksOf(value: Uint8Array): string[] {
  return (JSON.parse(Buffer.from(value.subarray(1)).toString('utf8')) as { chunks: string[] }).chunks;
}

function withTag(tag: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out[0] = tag;
  out.set(bytes, 1);
  return out;
}
