import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { FabricConflictError, type BucketOptions, type Fabric, type FabricBucket, type FabricEntry, type FabricSubscription, type FabricWatch } from './port.ts';

/** A scan that waits this long for the next entry gives up (a caller acts on no partial view). */
const SCAN_IDLE_MS = 10_000;

const isConflict = (err: unknown): boolean => /wrong last sequence|key exists/i.test((err as Error).message ?? '');

async function orConflict<T>(bucket: string, key: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isConflict(err)) throw new FabricConflictError(`${bucket}: ${key}: ${(err as Error).message}`, { cause: err });
    throw err;
  }
}

const entryOf = (e: KvEntry): FabricEntry => ({ key: e.key, value: e.value, revision: e.revision, created: e.created, operation: e.operation });

/**
 * The fabric on NATS: each bucket a JetStream KV bucket (`KV_<name>` streams), `onWrite` a core
 * subscription to the key's KV subject (every stored write is also delivered there, without a
 * consumer), publish/subscribe core NATS subjects.
 */
export class NatsFabric implements Fabric {
  readonly kind = 'nats';
  readonly maxValueBytes: number;
  private readonly kvm: Kvm;
  private jsm: Promise<JetStreamManager> | undefined;

  constructor(readonly nc: NatsConnection) {
    this.kvm = new Kvm(nc);
    this.maxValueBytes = (nc.info?.max_payload ?? 1024 * 1024) - 4096;
  }

  async bucket(name: string, opts: BucketOptions = {}): Promise<FabricBucket> {
    const kv = await this.kvm.create(name, { history: 1, replicas: opts.replicas ?? 1, ...(opts.description ? { description: opts.description } : {}) });
    this.jsm ??= jetstreamManager(this.nc, { timeout: 10_000 });
    return new NatsBucket(name, kv, this.nc, () => this.jsm!);
  }

  publish(subject: string, data?: Uint8Array): void {
    this.nc.publish(subject, data);
  }

  subscribe(prefix: string, fn: (subject: string, data: Uint8Array) => void): FabricSubscription {
    const sub = this.nc.subscribe(`${prefix}.>`, {
      callback: (err, msg) => {
        if (!err) fn(msg.subject, msg.data);
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  async flush(): Promise<void> {
    await this.nc.flush();
  }

  onReconnect(fn: () => void): () => void {
    const status = this.nc.status();
    void (async () => {
      for await (const s of status) if (s.type === 'reconnect') fn();
    })().catch(() => undefined);
    return () => (status as { stop?(): void }).stop?.();
  }
}

class NatsBucket implements FabricBucket {
  constructor(
    readonly name: string,
    private readonly kv: KV,
    private readonly nc: NatsConnection,
    private readonly jsm: () => Promise<JetStreamManager>,
  ) {}

  async get(key: string): Promise<FabricEntry | undefined> {
    const e = await this.kv.get(key);
    return e ? entryOf(e) : undefined;
  }

  put(key: string, value: Uint8Array | string): Promise<number> {
    return this.kv.put(key, value);
  }

  create(key: string, value: Uint8Array | string): Promise<number> {
    return orConflict(this.name, key, () => this.kv.create(key, value));
  }

  update(key: string, value: Uint8Array | string, revision: number): Promise<number> {
    return orConflict(this.name, key, () => this.kv.update(key, value, revision));
  }

  async delete(key: string, opts: { readonly previousRevision?: number } = {}): Promise<void> {
    await orConflict(this.name, key, () => this.kv.delete(key, opts.previousRevision !== undefined ? { previousSeq: opts.previousRevision } : undefined));
  }

  async purge(key: string, revision: number): Promise<boolean> {
    const r = await (await this.jsm()).streams.purge(`KV_${this.name}`, { filter: `$KV.${this.name}.${key}`, seq: revision + 1 });
    return r.purged > 0;
  }

  async *keys(prefix = ''): AsyncIterable<string> {
    yield* await this.kv.keys(`${prefix}>`);
  }

  async size(): Promise<number> {
    return (await this.kv.status()).values;
  }

  async watch(onEntry: (e: FabricEntry) => void, opts: { readonly prefix?: string } = {}): Promise<FabricWatch> {
    const iter = await this.kv.watch({ key: `${opts.prefix ?? ''}>` });
    let loadedNow!: () => void;
    const loaded = new Promise<void>((r) => (loadedNow = r));
    // The initial load (up to the first entry with nothing pending behind it) carries deletion
    // markers too: the contract, and the twin, give live entries only there.
    let loading = true;
    const done = (async () => {
      for await (const e of iter) {
        const initial = loading;
        if (e.delta === 0) loading = false;
        if (!initial || e.operation === 'PUT') onEntry(entryOf(e));
        if (e.delta === 0) loadedNow();
      }
    })();
    done.catch(() => undefined);
    // An empty bucket delivers nothing to say it is loaded (with a prefix that matches nothing, neither: callers bound the wait).
    if ((await this.kv.status()).values === 0) {
      loading = false;
      loadedNow();
    }
    return { loaded, done, stop: () => iter.stop() };
  }

  onWrite(key: string, fn: (value: Uint8Array) => void): FabricSubscription {
    const sub = this.nc.subscribe(`$KV.${this.name}.${key}`, {
      callback: (err, msg) => {
        if (!err) fn(msg.data);
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  /** The current entry of every key, read through one ordered consumer. */
  async *scan(opts: { readonly headersOnly?: boolean } = {}): AsyncIterable<FabricEntry> {
    if ((await this.kv.status()).values === 0) return;
    const iter = await this.kv.watch({ key: '>', headers_only: opts.headersOnly === true });
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
        yield entryOf(e);
        if (e.delta === 0) return;
      }
      throw new Error(timedOut ? `reading bucket ${this.name} stalled for ${SCAN_IDLE_MS} ms` : `reading bucket ${this.name} ended early`);
    } finally {
      clearTimeout(idle);
      iter.stop();
    }
  }
}
