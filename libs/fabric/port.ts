/**
 * The fabric: the state the scale-out roles share besides the log (content, manifests and shared
 * pointers, proxy status, registrations, demands) and the messages they exchange (membership
 * heartbeats). It is a small key-value and pub/sub port, shaped like NATS KV and core NATS
 * because that is its main adapter; the stores in libs/snapshot-store build the domain on it.
 *
 * Adapters (every one passes `describeFabric` in ./contract.ts):
 * - `NatsFabric` (./nats.ts): JetStream KV buckets and core subjects, so projectors, gateways
 *   and API servers in separate processes share it;
 * - `MemoryFabric` (./memory.ts): the in-memory twin, for roles in one process and for tests.
 *   It can also drop deliveries for a while (`disconnect`/`reconnect`) as a NATS client that
 *   lost its connection does, so the recovery paths are testable without killing a server.
 */

/** A write lost a compare-and-set race: the key exists (create) or moved past the revision given (update, delete). */
export class FabricConflictError extends Error {
  override readonly name = 'FabricConflictError';
}

export type FabricOperation = 'PUT' | 'DEL' | 'PURGE';

/** One key's latest write. A deletion leaves an entry with operation DEL and an empty value. */
export interface FabricEntry {
  readonly key: string;
  /** The stored bytes (do not mutate; copy before keeping a part of it for long). Empty for DEL/PURGE, and in `headersOnly` scans. */
  readonly value: Uint8Array;
  /** Grows with every write to the bucket (not per key). */
  readonly revision: number;
  readonly created: Date;
  readonly operation: FabricOperation;
}

/** A running watch: `loaded` resolves once the entries current at the start were delivered; `done` settles when it ends (rejects on a failure). */
export interface FabricWatch {
  readonly loaded: Promise<void>;
  readonly done: Promise<void>;
  stop(): void;
}

export interface FabricSubscription {
  unsubscribe(): void;
}

/**
 * A bucket of keys, each with its latest entry. Keys are dot-separated tokens of
 * `[A-Za-z0-9_=-]`; a `prefix` selects keys by whole leading tokens and ends with '.'.
 *
 * Contract:
 * - every write returns its revision, larger than any earlier write's in the bucket;
 * - `create` fails with FabricConflictError when the key holds a live value; `update` and a
 *   `delete` with `previousRevision` fail with it unless the key's latest revision is the one given;
 * - `purge(key, revision)` removes the key's entries up to `revision`, leaving no marker, and
 *   reports whether it removed the entry at `revision` (a newer write survives and is kept);
 * - `watch` delivers the current entry of every selected key (live ones, oldest revision first),
 *   then every write as it happens, deletions included, in revision order, until stopped; a
 *   handler that throws ends the watch (`done` rejects with its error). `loaded` may not resolve
 *   on NATS when a prefix matches nothing in a bucket that is not empty: bound the wait;
 * - `onWrite` delivers the value of each later write to one key (empty for a deletion), with no
 *   history and at most once: a client that is disconnected misses what was written meanwhile
 *   and is expected to read again on `Fabric.onReconnect`. It also delivers writes that lost
 *   their compare-and-set (on NATS the message reaches the key's subject before the server
 *   refuses to store it): a delivery is a hint, and listeners check what they get (positions);
 * - `scan` yields the current entry of every key and ends, or throws when it cannot see them all
 *   (so that a caller never acts on a partial view).
 */
export interface FabricBucket {
  readonly name: string;
  get(key: string): Promise<FabricEntry | undefined>;
  put(key: string, value: Uint8Array | string): Promise<number>;
  create(key: string, value: Uint8Array | string): Promise<number>;
  update(key: string, value: Uint8Array | string, revision: number): Promise<number>;
  delete(key: string, opts?: { readonly previousRevision?: number }): Promise<void>;
  purge(key: string, revision: number): Promise<boolean>;
  keys(prefix?: string): AsyncIterable<string>;
  /** How many entries the bucket stores, deletion markers included (0: empty). */
  size(): Promise<number>;
  watch(onEntry: (e: FabricEntry) => void, opts?: { readonly prefix?: string }): Promise<FabricWatch>;
  onWrite(key: string, fn: (value: Uint8Array) => void): FabricSubscription;
  scan(opts?: { readonly headersOnly?: boolean }): AsyncIterable<FabricEntry>;
}

export interface BucketOptions {
  /** Copies kept by the servers (NATS stream replicas); ignored in memory. */
  readonly replicas?: number;
  readonly description?: string;
}

export interface Fabric {
  /** Adapter name for logs: `memory`, `nats`. */
  readonly kind: string;
  /** The largest value one write may carry; larger ones are split by the stores (see ContentStore). */
  readonly maxValueBytes: number;
  /** Opens the bucket, creating it if needed. Every opener of one name shares it. */
  bucket(name: string, opts?: BucketOptions): Promise<FabricBucket>;
  /**
   * A message to everyone subscribed to a prefix of `subject` (dot-separated tokens), now, with
   * no storage: a subscriber that is not connected misses it.
   */
  publish(subject: string, data?: Uint8Array): void;
  /** Messages whose subject starts with `prefix` + '.', in the order published. */
  subscribe(prefix: string, fn: (subject: string, data: Uint8Array) => void): FabricSubscription;
  /** Resolves once what this client published has reached the fabric. */
  flush(): Promise<void>;
  /** Called after the client got its connection back (deliveries may have been lost meanwhile). Returns a function that stops it. */
  onReconnect(fn: () => void): () => void;
}
