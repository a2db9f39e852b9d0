import { createHash } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
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
 * Content-addressed blobs in a JetStream KV bucket: key `c.<sha256>`, value the bytes. A blob
 * larger than one NATS message is stored as chunks (each content-addressed) plus an index
 * under its own address, so any size works. `get` checks the hash of what it reads, and a
 * blob is written at most once per process (its address says it cannot change).
 */
export class ContentStore {
  private readonly written = new LRUCache<string, true>({ max: 200_000 });

  private constructor(
    readonly kv: KV,
    private readonly chunkSize: number,
  ) {}

  static async open(nc: NatsConnection, bucket: string, opts: { replicas?: number; chunkSize?: number } = {}): Promise<ContentStore> {
    const kv = await new Kvm(nc).create(bucket, { history: 1, replicas: opts.replicas ?? 1, description: 'kuma xDS content by sha256' });
    const limit = (nc.info?.max_payload ?? 1024 * 1024) - 4096;
    return new ContentStore(kv, Math.min(opts.chunkSize ?? limit, limit));
  }

  /** Stores `bytes` under `hash` (their sha256) unless this process already did. */
  async put(hash: string, bytes: Uint8Array): Promise<void> {
    if (this.written.has(hash)) return;
    if (bytes.length + 1 <= this.chunkSize) {
      await this.kv.put(`c.${hash}`, withTag(RAW, bytes));
    } else {
      const chunks: string[] = [];
      for (let off = 0; off < bytes.length; off += this.chunkSize - 1) {
        const chunk = bytes.subarray(off, off + this.chunkSize - 1);
        const h = sha256(chunk);
        await this.put(h, chunk);
        chunks.push(h);
      }
      await this.kv.put(`c.${hash}`, withTag(CHUNKED, Buffer.from(JSON.stringify({ size: bytes.length, chunks }))));
    }
    this.written.set(hash, true);
  }

  /** The bytes at `hash`, verified. */
  async get(hash: string): Promise<Uint8Array> {
    const entry = await this.kv.get(`c.${hash}`);
    if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) throw new ContentMissingError(`content ${hash} is not in the store`);
    const value = entry.value;
    let bytes: Uint8Array;
    // A copy: the value is a view into the connection's read buffer (64 KB), which a cached
    // view would keep alive (in a 5,000-stream gateway that was ~45 MB).
    if (value[0] === RAW) bytes = new Uint8Array(value.subarray(1));
    else if (value[0] === CHUNKED) {
      const index = JSON.parse(Buffer.from(value.subarray(1)).toString('utf8')) as { size: number; chunks: string[] };
      const parts = await Promise.all(index.chunks.map((c) => this.get(c)));
      bytes = Buffer.concat(parts);
    } else throw new ContentCorruptError(`content ${hash} has an unknown encoding ${value[0]}`);
    if (sha256(bytes) !== hash) throw new ContentCorruptError(`content ${hash} does not match its hash`);
    return bytes;
  }

  /** Forgets what this process wrote, so the next `put` writes again (after content was lost). */
  forget(hash: string): void {
    this.written.delete(hash);
  }
}

function withTag(tag: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out[0] = tag;
  out.set(bytes, 1);
  return out;
}
