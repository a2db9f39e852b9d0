import type { NewEvent, StoredEvent } from './event.ts';

export interface AppendOptions {
  /**
   * Optimistic concurrency: the sequence of the resource's latest event (its current
   * version, tombstones included), or 0 when the resource has never been written.
   * The append fails with VersionConflictError when it differs. Omit to append unconditionally.
   */
  readonly expectedVersion?: number;
}

/** Exact-match filter on the resource an event is about. `mesh` matches mesh-scoped resources only. */
export interface EventFilter {
  readonly mesh?: string;
  readonly type?: string;
  readonly name?: string;
  /** Any of these types (with `type`, both must hold). */
  readonly types?: readonly string[];
}

/** What a follower reads: only events of `types` (adapters filter where the events are stored, so a follower of few types reads few). */
export interface FollowFilter {
  readonly types?: readonly string[];
}

/** One event of an `appendAll` batch, with its own optimistic-concurrency check. */
export interface BatchItem {
  readonly event: NewEvent;
  readonly expectedVersion?: number;
}

/** A live subscription created by `follow`. */
export interface Subscription {
  /** Stops delivery; resolves once no more handler calls will happen. */
  stop(): Promise<void>;
}

/**
 * The event log: the source of truth. Everything else is a projection of it.
 *
 * Contract (every adapter passes `describeEventLog`):
 * - `append` resolves only once the event is durable for that adapter, with its sequence.
 *   Sequences start at 1 and grow by one per event, in append order.
 * - Appending an event whose `id` was appended before (within the de-duplication window,
 *   at least 2 minutes) stores nothing new and resolves with the original stored event.
 * - `expectedVersion` is checked atomically with the append.
 * - `read(from, to, filter)` yields stored events with `from <= seq <= to` (to defaults to the
 *   head when the call is made) that match `filter`, in order, and ends.
 * - `appendAll(items)` appends a batch in order, with consecutive sequences and no other event
 *   between them. An item whose id was appended before is not appended again: the batch's
 *   result carries its original stored event there (a retried batch gets back what it stored
 *   the first time), and the new items keep consecutive sequences among themselves. Every expected version is checked before anything is stored; when one fails
 *   the batch fails with VersionConflictError and the log is unchanged. Adapters without an
 *   atomic multi-message write (JetStream before 2.12) chain each append on the previous one's
 *   sequence: a write that slips in between two of them stops the batch with
 *   BatchInterruptedError, which names the events already stored.
 * - `follow(from, handler)` calls `handler` once per event with `seq >= from`, in order and
 *   without gaps, first the stored ones and then new ones as they are appended, until stopped.
 *   It survives reconnects of the underlying transport. The handler must not throw. With
 *   `filter.types` it delivers only those events, in order; the sequences between them are
 *   events of other types, never lost ones.
 * - `history(key)` returns the events of one resource in order, including after it was deleted.
 * - `head()` is the sequence of the latest event, 0 for an empty log.
 * - `first()` is the oldest sequence still stored: 1, unless a retention limit removed older events.
 *
 * How the adapters still to come fit this port unchanged:
 * - PostgreSQL: `events(seq bigserial primary key, subject text, id uuid unique, payload jsonb)` and
 *   `heads(subject primary key, seq)`. `append` runs in one transaction that updates `heads` with
 *   `WHERE seq = $expectedVersion` (0 = insert) and inserts the event, so the check is atomic and
 *   the unique `id` de-duplicates. Gap-free sequences need the insert serialised per transaction
 *   (an advisory lock), since bigserial gaps on rollback. `follow` reads `seq > last` and waits on
 *   LISTEN/NOTIFY between reads.
 * - Kubernetes: a CRD watch is the writer. Each watch event becomes an `append` without an
 *   expected version (the API server already ordered the writes) and with `id` =
 *   `<uid>/<resourceVersion>`, so a re-list after a watch restart de-duplicates instead of
 *   double-appending.
 */
export interface EventLog {
  /** Adapter name for logs and metrics: `memory`, `embedded`, `nats`, `postgres`. */
  readonly kind: string;
  append(event: NewEvent, options?: AppendOptions): Promise<StoredEvent>;
  appendAll(items: readonly BatchItem[]): Promise<StoredEvent[]>;
  read(from: number, to?: number, filter?: EventFilter): AsyncIterable<StoredEvent>;
  follow(from: number, handler: (event: StoredEvent) => void, filter?: FollowFilter): Subscription;
  /** Every event of one resource (deletions included), oldest first. */
  history(key: { readonly type: string; readonly mesh?: string; readonly name: string }): Promise<StoredEvent[]>;
  head(): Promise<number>;
  first(): Promise<number>;
  close(): Promise<void>;
}

/** How long a writer's event id is remembered for de-duplication. */
export const DEDUP_WINDOW_MS = 2 * 60 * 1000;

/** Whether an event is about a resource the filter selects. */
export function matchesFilter(e: { readonly type: string; readonly mesh?: string; readonly name: string }, f: EventFilter | undefined): boolean {
  if (!f) return true;
  return (
    (f.type === undefined || e.type === f.type) &&
    (f.types === undefined || f.types.includes(e.type)) &&
    (f.mesh === undefined || e.mesh === f.mesh) &&
    (f.name === undefined || e.name === f.name)
  );
}
