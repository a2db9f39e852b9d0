import type { NewEvent, StoredEvent } from './event.ts';
import { EventLogUnavailableError, VersionConflictError } from './errors.ts';
import { DEDUP_WINDOW_MS, matchesFilter, type AppendOptions, type BatchItem, type EventFilter, type EventLog, type FollowFilter, type Subscription } from './port.ts';
import { resourceSubject } from './subject.ts';

/** What a single-process log persists. Implementations need not be safe for concurrent writes. */
export interface LocalStorage {
  /** Loads the head, the latest sequence per subject, and the events of the last `recentMs`. */
  open(recentMs: number): Promise<{ head: number; versions: Map<string, number>; recent: StoredEvent[] }>;
  /** Persists a batch of consecutive events durably (all or nothing). */
  write(batch: readonly StoredEvent[], subjects: readonly string[]): Promise<void>;
  /** Events with from <= seq <= to, in order. */
  readRange(from: number, to: number): AsyncIterable<StoredEvent>;
  close(): Promise<void>;
}

interface Pending {
  readonly event: StoredEvent;
  readonly subject: string;
  readonly durable: Promise<void>;
}

/**
 * The event log of one process, over a pluggable storage: in memory, or embedded on disk.
 * Concurrency checks run against an in-memory index before the write, so concurrent
 * appends are checked in arrival order; writes are group-committed: appends that arrive
 * while a write is in flight go to disk together in the next one.
 */
export class LocalEventLog implements EventLog {
  private head_ = 0;
  private durableHead = 0;
  private versions = new Map<string, number>();
  private readonly recentIds = new Map<string, Pending>();
  private queue: Pending[] = [];
  private flushing = false;
  private failure: Error | undefined;
  private closed = false;
  private readonly listeners = new Set<(e: StoredEvent) => void>();
  private readonly resolvers = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  private constructor(
    readonly kind: string,
    private readonly storage: LocalStorage,
  ) {}

  static async open(kind: string, storage: LocalStorage): Promise<LocalEventLog> {
    const log = new LocalEventLog(kind, storage);
    const { head, versions, recent } = await storage.open(DEDUP_WINDOW_MS);
    log.head_ = head;
    log.durableHead = head;
    log.versions = versions;
    for (const event of recent) {
      log.recentIds.set(event.id, { event, subject: resourceSubject(event), durable: Promise.resolve() });
    }
    return log;
  }

  async append(event: NewEvent, options: AppendOptions = {}): Promise<StoredEvent> {
    const [stored] = await this.appendAll([{ event, ...options }]);
    return stored!;
  }

  /**
   * Checks every expected version first, then queues the whole batch at once, so it reaches
   * storage in one atomic write with consecutive sequences.
   */
  async appendAll(items: readonly BatchItem[]): Promise<StoredEvent[]> {
    if (this.closed) throw new EventLogUnavailableError('event log is closed');
    if (this.failure) throw new EventLogUnavailableError('event log failed a write and accepts no more', { cause: this.failure });
    const dups = items.map((i) => this.recentIds.get(i.event.id));
    if (items.length > 0 && dups.every((d) => d !== undefined)) {
      await Promise.all(dups.map((d) => d!.durable));
      return dups.map((d) => d!.event);
    }
    const subjects = items.map(({ event }) => resourceSubject(event));
    const planned = new Map<string, number>();
    items.forEach(({ expectedVersion }, i) => {
      const subject = subjects[i]!;
      const current = planned.get(subject) ?? this.versions.get(subject) ?? 0;
      if (expectedVersion !== undefined && expectedVersion !== current) throw new VersionConflictError(subject, expectedVersion, current);
      planned.set(subject, this.head_ + 1 + i); // the sequence this item will get
    });
    const pendings = items.map(({ event }, i) => {
      const subject = subjects[i]!;
      const seq = ++this.head_;
      const stored = { ...event, seq } as StoredEvent;
      this.versions.set(subject, seq);
      const durable = new Promise<void>((resolve, reject) => this.resolvers.set(seq, { resolve, reject }));
      const pending: Pending = { event: stored, subject, durable };
      this.recentIds.set(event.id, pending);
      this.queue.push(pending);
      return pending;
    });
    this.pruneIds();
    if (!this.flushing) void this.flush();
    await Promise.all(pendings.map((p) => p.durable));
    return pendings.map((p) => p.event);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.storage.write(
            batch.map((p) => p.event),
            batch.map((p) => p.subject),
          );
        } catch (err) {
          // The in-memory index is now ahead of the disk: refuse everything from here on.
          this.failure = err as Error;
          for (const p of [...batch, ...this.queue]) {
            this.resolvers.get(p.event.seq)?.reject(new EventLogUnavailableError('event log write failed', { cause: err }));
            this.resolvers.delete(p.event.seq);
          }
          this.queue = [];
          return;
        }
        for (const p of batch) {
          this.durableHead = p.event.seq;
          for (const l of this.listeners) l(p.event);
          this.resolvers.get(p.event.seq)?.resolve();
          this.resolvers.delete(p.event.seq);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private pruneIds(): void {
    if (this.recentIds.size < 10_000) return;
    const cutoff = Date.now() - DEDUP_WINDOW_MS;
    for (const [id, p] of this.recentIds) {
      if (Date.parse(p.event.time) >= cutoff) break;
      this.recentIds.delete(id);
    }
  }

  async *read(from: number, to?: number, filter?: EventFilter): AsyncIterable<StoredEvent> {
    const end = Math.min(to ?? this.durableHead, this.durableHead);
    if (from > end) return;
    for await (const e of this.storage.readRange(Math.max(1, from), end)) if (matchesFilter(e, filter)) yield e;
  }

  follow(from: number, handler: (event: StoredEvent) => void, filter?: FollowFilter): Subscription {
    let next = Math.max(1, from);
    let live = false;
    let stopped = false;
    const buffered: StoredEvent[] = [];
    const types = filter?.types;
    const deliver = (e: StoredEvent): void => {
      if (stopped || e.seq < next) return;
      next = e.seq + 1;
      if (types === undefined || types.includes(e.type)) handler(e);
    };
    const listener = (e: StoredEvent): void => {
      if (live) deliver(e);
      else buffered.push(e);
    };
    this.listeners.add(listener);
    const catchUp = (async () => {
      for await (const e of this.read(next)) {
        if (stopped) return;
        deliver(e);
      }
      for (const e of buffered) deliver(e);
      buffered.length = 0;
      live = true;
    })();
    return {
      stop: async () => {
        stopped = true;
        this.listeners.delete(listener);
        await catchUp.catch(() => undefined);
      },
    };
  }

  /** Scans the log: the local adapters keep no per-resource index (history is a rare, admin read). */
  async history(key: { type: string; mesh?: string; name: string }): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for await (const e of this.read(1, undefined, key)) if (e.mesh === key.mesh) out.push(e);
    return out;
  }

  async head(): Promise<number> {
    return this.durableHead;
  }

  /** The local logs keep every event. */
  async first(): Promise<number> {
    return 1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    this.listeners.clear();
    await this.storage.close();
  }
}
