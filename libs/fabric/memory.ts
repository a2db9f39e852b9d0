import {
  FabricConflictError,
  type BucketOptions,
  type Fabric,
  type FabricBucket,
  type FabricEntry,
  type FabricSubscription,
  type FabricWatch,
} from './port.ts';

const bytesOf = (v: Uint8Array | string): Uint8Array => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v.slice());
const live = (e: FabricEntry | undefined): boolean => e !== undefined && e.operation === 'PUT';
const EMPTY = new Uint8Array(0);

/**
 * The in-memory twin of the fabric: one instance is one "server", shared by every role given it.
 * Deliveries (watches, `onWrite`, subscriptions) are asynchronous and in write order, as over a
 * network. While `disconnect`ed, `onWrite` and subscription deliveries are dropped, as a NATS
 * client loses core messages; `reconnect` then calls the `onReconnect` hooks.
 */
export class MemoryFabric implements Fabric {
  readonly kind = 'memory';
  readonly maxValueBytes: number;
  private readonly buckets = new Map<string, MemoryBucket>();
  private readonly subscribers = new Set<{ readonly prefix: string; readonly fn: (subject: string, data: Uint8Array) => void }>();
  private readonly reconnectHooks = new Set<() => void>();
  /** Whether core deliveries are dropped (see `disconnect`). */
  connected = true;

  constructor(opts: { maxValueBytes?: number } = {}) {
    this.maxValueBytes = opts.maxValueBytes ?? 1024 * 1024 - 4096;
  }

  async bucket(name: string, _opts: BucketOptions = {}): Promise<FabricBucket> {
    let b = this.buckets.get(name);
    if (!b) this.buckets.set(name, (b = new MemoryBucket(name, this)));
    return b;
  }

  publish(subject: string, data: Uint8Array = EMPTY): void {
    if (!this.connected) return;
    const copy = data.slice();
    for (const s of this.subscribers) {
      if (subject.startsWith(s.prefix)) queueMicrotask(() => this.subscribers.has(s) && s.fn(subject, copy));
    }
  }

  subscribe(prefix: string, fn: (subject: string, data: Uint8Array) => void): FabricSubscription {
    const s = { prefix: `${prefix}.`, fn };
    this.subscribers.add(s);
    return { unsubscribe: () => void this.subscribers.delete(s) };
  }

  async flush(): Promise<void> {
    await new Promise((r) => setImmediate(r));
  }

  onReconnect(fn: () => void): () => void {
    this.reconnectHooks.add(fn);
    return () => void this.reconnectHooks.delete(fn);
  }

  /** From now on, core deliveries (onWrite, subscriptions) are lost until `reconnect`. KV reads and writes still work. */
  disconnect(): void {
    this.connected = false;
  }

  reconnect(): void {
    this.connected = true;
    for (const fn of this.reconnectHooks) queueMicrotask(fn);
  }
}

interface Watcher {
  readonly prefix: string;
  readonly fn: (e: FabricEntry) => void;
  stopped: boolean;
  end: (err?: Error) => void;
}

class MemoryBucket implements FabricBucket {
  private readonly entries = new Map<string, FabricEntry>();
  private revision = 0;
  private readonly watchers = new Set<Watcher>();
  private readonly keyListeners = new Map<string, Set<(value: Uint8Array) => void>>();

  constructor(
    readonly name: string,
    private readonly fabric: MemoryFabric,
  ) {}

  async get(key: string): Promise<FabricEntry | undefined> {
    return this.entries.get(key);
  }

  async put(key: string, value: Uint8Array | string): Promise<number> {
    return this.write(key, bytesOf(value), 'PUT');
  }

  async create(key: string, value: Uint8Array | string): Promise<number> {
    const bytes = bytesOf(value);
    if (live(this.entries.get(key))) throw this.refused(key, bytes, 'exists');
    return this.write(key, bytes, 'PUT');
  }

  async update(key: string, value: Uint8Array | string, revision: number): Promise<number> {
    const bytes = bytesOf(value);
    this.expect(key, revision, bytes);
    return this.write(key, bytes, 'PUT');
  }

  async delete(key: string, opts: { readonly previousRevision?: number } = {}): Promise<void> {
    if (opts.previousRevision !== undefined) this.expect(key, opts.previousRevision);
    this.write(key, EMPTY, 'DEL');
  }

  async purge(key: string, revision: number): Promise<boolean> {
    const e = this.entries.get(key);
    if (!e || e.revision > revision) return false;
    this.entries.delete(key);
    return true;
  }

  async *keys(prefix = ''): AsyncIterable<string> {
    for (const [k, e] of [...this.entries]) if (k.startsWith(prefix) && live(e)) yield k;
  }

  async size(): Promise<number> {
    return this.entries.size;
  }

  async watch(onEntry: (e: FabricEntry) => void, opts: { readonly prefix?: string } = {}): Promise<FabricWatch> {
    let end!: (err?: Error) => void;
    const done = new Promise<void>((resolve, reject) => (end = (err) => (err ? reject(err) : resolve())));
    // A handler that throws ends the watch with its error (as the NATS adapter's does), never the process.
    const deliver = (e: FabricEntry) => {
      if (w.stopped) return;
      try {
        onEntry(e);
      } catch (err) {
        w.stopped = true;
        this.watchers.delete(w);
        w.end(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const w: Watcher = { prefix: opts.prefix ?? '', fn: deliver, stopped: false, end };
    const current = [...this.entries.values()].filter((e) => live(e) && e.key.startsWith(w.prefix)).sort((a, b) => a.revision - b.revision);
    this.watchers.add(w);
    const loaded = new Promise<void>((resolve) =>
      queueMicrotask(() => {
        for (const e of current) deliver(e);
        resolve();
      }),
    );
    return {
      loaded,
      done,
      stop: () => {
        w.stopped = true;
        this.watchers.delete(w);
        w.end();
      },
    };
  }

  onWrite(key: string, fn: (value: Uint8Array) => void): FabricSubscription {
    let set = this.keyListeners.get(key);
    if (!set) this.keyListeners.set(key, (set = new Set()));
    const listeners = set;
    // A wrapper per subscription, so that subscribing the same function twice is two subscriptions.
    const own = (v: Uint8Array) => fn(v);
    listeners.add(own);
    return {
      unsubscribe: () => {
        listeners.delete(own);
        if (listeners.size === 0 && this.keyListeners.get(key) === listeners) this.keyListeners.delete(key);
      },
    };
  }

  async *scan(opts: { readonly headersOnly?: boolean } = {}): AsyncIterable<FabricEntry> {
    for (const e of [...this.entries.values()].sort((a, b) => a.revision - b.revision)) yield opts.headersOnly ? { ...e, value: EMPTY } : e;
  }

  /** The key's latest revision must be `revision`; else the write (`attempted`, its value) lost its compare-and-set. */
  private expect(key: string, revision: number, attempted?: Uint8Array): void {
    const current = this.entries.get(key)?.revision ?? 0;
    if (current !== revision) throw this.refused(key, attempted, `is at revision ${current}, not ${revision}`);
  }

  /**
   * A write that lost its compare-and-set: nothing is stored, but, as on NATS (the message
   * reaches the key's subject before the server refuses to store it), `onWrite` listeners hear a
   * refused put.
   */
  private refused(key: string, attempted: Uint8Array | undefined, why: string): FabricConflictError {
    if (attempted) this.notifyKey(key, attempted);
    return new FabricConflictError(`${this.name}: key ${key} ${why}`);
  }

  private write(key: string, value: Uint8Array, operation: 'PUT' | 'DEL'): number {
    const e: FabricEntry = { key, value, revision: ++this.revision, created: new Date(), operation };
    this.entries.set(key, e);
    for (const w of this.watchers) if (key.startsWith(w.prefix)) queueMicrotask(() => w.fn(e));
    this.notifyKey(key, value);
    return e.revision;
  }

  private notifyKey(key: string, value: Uint8Array): void {
    const listeners = this.keyListeners.get(key);
    if (listeners && this.fabric.connected) for (const fn of listeners) queueMicrotask(() => listeners.has(fn) && fn(value));
  }
}
