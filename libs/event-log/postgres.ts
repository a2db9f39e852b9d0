import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { NewEvent, StoredEvent } from './event.ts';
import { EventLogUnavailableError, VersionConflictError } from './errors.ts';
import type { AppendOptions, BatchItem, EventFilter, EventLog, FollowFilter, Subscription } from './port.ts';
import { resourceSubject } from './subject.ts';

/** Where the log's events live, and how the connections to it behave. */
export interface PostgresLogOptions {
  /** The primary: every write, follows and reads that must see the latest events. */
  readonly pool: pg.PoolConfig;
  /** A read replica for reads of ranges it already holds; `ratio` is the percentage of those sent to it (Kuma's READ_REPLICA_RATIO). */
  readonly replica?: { readonly pool: pg.PoolConfig; readonly ratio: number };
  /** How often followers read even without a notification (a lost NOTIFY costs at most this much delay). */
  readonly pollMs?: number;
  /** Called when the listening connection fails or a follower cannot read (for logs); the log retries by itself. */
  readonly onError?: (err: Error, what: string) => void;
}

/** The notification channel: its payload is the head after a commit. */
const CHANNEL = 'kuma_events';
/** pg_advisory_xact_lock key that serialises appends ('kuma' 'evts'). */
const APPEND_LOCK = 0x6b756d61_65767473n.toString();
/** The log's head: its latest event (the primary key's last entry). */
const HEAD_SQL = 'SELECT seq FROM kuma_events ORDER BY seq DESC LIMIT 1';
/** Events per read query. */
const PAGE = 1000;
/** Events and bytes per group commit. */
const GROUP_EVENTS = 2000;
const GROUP_BYTES = 16 * 1024 * 1024;
/** Events of this instance's own commits kept for its followers. */
const RECENT = 10_000;

interface Job {
  readonly items: readonly BatchItem[];
  readonly payloads: readonly string[];
  readonly resolve: (v: StoredEvent[]) => void;
  readonly reject: (e: Error) => void;
}

interface Row {
  seq: string;
  payload: string;
}

const toStored = (r: Row): StoredEvent => ({ ...(JSON.parse(r.payload) as NewEvent), seq: Number(r.seq) });
/** Global-scoped resources have no mesh: '' in the table (a mesh name is never empty). */
const meshCol = (e: { readonly mesh?: string }): string => e.mesh ?? '';
const keyOf = (e: { readonly type: string; readonly mesh?: string; readonly name: string }): string => resourceSubject(e);

/** Connection-level failures (the server is down, restarting, unreachable): the caller may retry. */
function unavailable(err: unknown, what: string): EventLogUnavailableError {
  return new EventLogUnavailableError(`PostgreSQL ${what} failed: ${(err as Error).message}`, { cause: err });
}

/**
 * The event log in PostgreSQL (`KUMA_STORE_TYPE=postgres`).
 *
 * Appends are group-committed: what arrives while a transaction is in flight goes into the next
 * one, which takes a transaction-level advisory lock, reads the head and the heads of the
 * resources it writes, checks every expected version, inserts the events with the next
 * sequences, updates the heads and notifies `kuma_events`. An `appendAll` is one unit of a
 * group: all its events or none.
 *
 * Why followers never skip an event: sequences are assigned under the lock as head + 1, so a
 * rolled-back transaction leaves no gap (nothing of it is visible and the next writer reuses its
 * numbers), and the lock is released only after the commit is visible, so a transaction that
 * sees event N + 1 sees N. A follower reading `seq >= next` in order therefore finds the next
 * sequence or nothing yet. A gap can only come from outside this writer (retention deleting old
 * events, a hand-edited table): a follower that meets one re-reads until `first()` tells it the
 * missing events are gone for good, then goes on from there.
 *
 * Live tailing: one connection per log LISTENs on `kuma_events`; followers read on each
 * notification and every `pollMs` anyway, so a dropped notification or a lost connection only
 * delays them.
 */
export class PostgresEventLog implements EventLog {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly replica: pg.Pool | undefined;
  private readonly replicaRatio: number;
  private readonly pollMs: number;
  private queue: Job[] = [];
  private writing: Promise<void> = Promise.resolve();
  private draining = false;
  private closed = false;
  private listener: pg.Client | undefined;
  private listening: Promise<void> | undefined;
  private readonly wakers = new Set<() => void>();
  private readonly followers = new Set<Promise<void>>();

  private constructor(private readonly opts: PostgresLogOptions) {
    this.pool = new pg.Pool(opts.pool);
    // An idle client whose server went away emits 'error' on the pool: the next query reconnects.
    this.pool.on('error', (err) => opts.onError?.(err, 'idle connection'));
    this.replica = opts.replica ? new pg.Pool(opts.replica.pool) : undefined;
    this.replica?.on('error', (err) => opts.onError?.(err, 'idle replica connection'));
    this.replicaRatio = opts.replica?.ratio ?? 0;
    this.pollMs = opts.pollMs ?? 1000;
  }

  /** Opens the log (the schema must be current: see checkSchema). Fails when the database cannot be reached. */
  static async open(opts: PostgresLogOptions): Promise<PostgresEventLog> {
    const log = new PostgresEventLog(opts);
    try {
      await log.pool.query('SELECT 1 FROM kuma_events LIMIT 0');
    } catch (err) {
      await log.close();
      throw err;
    }
    return log;
  }

  append(event: NewEvent, options: AppendOptions = {}): Promise<StoredEvent> {
    return this.appendAll([{ event, ...options }]).then((s) => s[0]!);
  }

  appendAll(items: readonly BatchItem[]): Promise<StoredEvent[]> {
    if (this.closed) return Promise.reject(new EventLogUnavailableError('event log is closed'));
    if (items.length === 0) return Promise.resolve([]);
    const payloads = items.map((i) => JSON.stringify(i.event));
    return new Promise((resolve, reject) => {
      this.queue.push({ items, payloads, resolve, reject });
      // `draining` turns false in the same turn as the drain's last look at the queue: nothing queued is left behind.
      if (!this.draining) {
        this.draining = true;
        this.writing = this.drain();
      }
    });
  }

  /** Writes groups until the queue is empty; `draining` turns false in the very turn it finds it so. writeGroup never throws. */
  private async drain(): Promise<void> {
    for (;;) {
      if (this.queue.length === 0) {
        this.draining = false;
        return;
      }
      let events = 0;
      let bytes = 0;
      let n = 0;
      for (const job of this.queue) {
        const size = job.payloads.reduce((s, p) => s + p.length, 0);
        if (n > 0 && (events + job.items.length > GROUP_EVENTS || bytes + size > GROUP_BYTES)) break;
        events += job.items.length;
        bytes += size;
        n++;
      }
      await this.writeGroup(this.queue.splice(0, n));
    }
  }

  /** One transaction for a group of jobs; each job gets its events or its own error. */
  private async writeGroup(jobs: readonly Job[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      for (const j of jobs) j.reject(unavailable(err, 'connection'));
      return;
    }
    // A checked-out client whose server goes away emits 'error' as well as failing its query: not a crash.
    const onError = (err: Error) => this.opts.onError?.(err, 'append connection');
    client.on('error', onError);
    let broken: unknown;
    let retryAlone = false;
    let outcome: { job: Job; stored?: StoredEvent[]; error?: Error }[] = [];
    try {
      // READ COMMITTED whatever the database's default: the head read after the lock must see the previous holder's commit.
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      await client.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      const headRow = await client.query<{ seq: string }>(HEAD_SQL);
      let head = Number(headRow.rows[0]?.seq ?? 0);

      const all = jobs.flatMap((j) => j.items.map((i) => i.event));
      const known = new Map<string, StoredEvent>();
      const dup = await client.query<Row & { id: string }>('SELECT id, seq, payload FROM kuma_events WHERE id = ANY($1::text[])', [all.map((e) => e.id)]);
      for (const r of dup.rows) known.set(r.id, toStored(r));

      const resources = new Map<string, { type: string; mesh: string; name: string }>();
      for (const e of all) if (!known.has(e.id)) resources.set(keyOf(e), { type: e.type, mesh: meshCol(e), name: e.name });
      const versions = new Map<string, number>();
      if (resources.size > 0) {
        const keys = [...resources.values()];
        const heads = await client.query<{ type: string; mesh: string; name: string; seq: string }>(
          'SELECT h.type, h.mesh, h.name, h.seq FROM kuma_heads h JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(type, mesh, name) USING (type, mesh, name)',
          [keys.map((k) => k.type), keys.map((k) => k.mesh), keys.map((k) => k.name)],
        );
        for (const h of heads.rows) versions.set(keyOf({ type: h.type, ...(h.mesh ? { mesh: h.mesh } : {}), name: h.name }), Number(h.seq));
      }

      const rows: { seq: number; id: string; type: string; mesh: string; name: string; op: string; prev: number; time: string; payload: string }[] = [];
      for (const job of jobs) {
        const fresh = job.items.filter((i) => !known.has(i.event.id));
        if (fresh.length === 0) {
          outcome.push({ job, stored: job.items.map((i) => known.get(i.event.id)!) });
          continue;
        }
        // The job's expected versions, against the heads as the jobs before it in this group left them.
        const planned = new Map<string, number>();
        let conflict: VersionConflictError | undefined;
        let seq = head;
        for (const { event, expectedVersion } of fresh) {
          const key = keyOf(event);
          const current = planned.get(key) ?? versions.get(key) ?? 0;
          if (expectedVersion !== undefined && expectedVersion !== current) {
            conflict = new VersionConflictError(key, expectedVersion, current);
            break;
          }
          planned.set(key, ++seq);
        }
        if (conflict) {
          outcome.push({ job, error: conflict });
          continue;
        }
        const stored: StoredEvent[] = [];
        job.items.forEach((item, i) => {
          const e = item.event;
          const again = known.get(e.id);
          if (again) return stored.push(again);
          const key = keyOf(e);
          // What every follower gets is what the table holds: the payload read back, not the caller's object.
          const s = { ...(JSON.parse(job.payloads[i]!) as NewEvent), seq: ++head } as StoredEvent;
          // The time column serves retention only (the payload keeps the writer's text): never a reason to fail a group.
          const time = new Date(Date.parse(e.time) || Date.now()).toISOString();
          rows.push({ seq: head, id: e.id, type: e.type, mesh: meshCol(e), name: e.name, op: e.op, prev: versions.get(key) ?? 0, time, payload: job.payloads[i]! });
          versions.set(key, head);
          known.set(e.id, s);
          return stored.push(s);
        });
        outcome.push({ job, stored });
      }

      if (rows.length > 0) {
        const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
        await client.query(
          `INSERT INTO kuma_events (seq, id, type, mesh, name, op, prev, time, payload)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::timestamptz[], $9::text[])`,
          [col('seq'), col('id'), col('type'), col('mesh'), col('name'), col('op'), col('prev'), col('time'), col('payload')],
        );
        // The last event of each resource in the group is its head.
        const last = new Map<string, (typeof rows)[number]>();
        for (const r of rows) last.set(`${r.type}\u0000${r.mesh}\u0000${r.name}`, r);
        const heads = [...last.values()];
        await client.query(
          `INSERT INTO kuma_heads (type, mesh, name, seq) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
           ON CONFLICT (type, mesh, name) DO UPDATE SET seq = excluded.seq`,
          [heads.map((h) => h.type), heads.map((h) => h.mesh), heads.map((h) => h.name), heads.map((h) => h.seq)],
        );
        await client.query('SELECT pg_notify($1, $2)', [CHANNEL, String(head)]);
      }
      await client.query('COMMIT');
    } catch (err) {
      broken = err;
      await client.query('ROLLBACK').catch(() => undefined);
      const code = (err as { code?: string }).code ?? '';
      // A job's own data failed the transaction (a unique violation: a writer that bypassed the
      // lock won the version; a value the database refused): each job is tried alone, so one
      // cannot fail the others.
      if (jobs.length > 1 && (code === '23505' || code.startsWith('22'))) retryAlone = true;
      const conflict = code === '23505' ? new VersionConflictError('a resource in the batch', 0, undefined, { cause: err }) : undefined;
      outcome = jobs.map((job) => ({ job, error: conflict ?? unavailable(err, 'append') }));
    } finally {
      // A client whose connection failed is discarded, not returned to the pool.
      client.off('error', onError);
      const code = (broken as { code?: string } | undefined)?.code ?? '';
      client.release(broken !== undefined && code !== '23505' && !code.startsWith('22') ? (broken as Error) : undefined);
    }
    if (retryAlone) {
      for (const job of jobs) await this.writeGroup([job]);
      return;
    }
    for (const o of outcome) {
      if (o.error) o.job.reject(o.error);
      else o.job.resolve(o.stored!);
    }
    if (outcome.some((o) => o.stored)) this.committed(outcome.flatMap((o) => o.stored ?? []));
  }

  /**
   * Events this instance committed, by sequence, for its own followers: they deliver them without
   * reading them back (a follower reads the table only for what others committed). Bounded; an
   * event gone from here is read from the table like any other.
   */
  private readonly recent = new Map<number, StoredEvent>();
  /** The highest sequence known to be committed (by this instance, or another's notification). */
  private knownHead = 0;
  /** Bumped when the LISTEN connection (re)starts: notifications may have been missed, so followers read. */
  private epoch = 0;

  private committed(events: readonly StoredEvent[]): void {
    for (const e of events) {
      if (this.recent.has(e.seq)) continue;
      this.recent.set(e.seq, e);
      if (e.seq > this.knownHead) this.knownHead = e.seq;
    }
    for (const seq of this.recent.keys()) {
      if (this.recent.size <= RECENT) break;
      this.recent.delete(seq);
    }
    this.wake();
  }

  async *read(from: number, to?: number, filter?: EventFilter): AsyncIterable<StoredEvent> {
    const end = to ?? (await this.head());
    let next = Math.max(1, from);
    if (next > end) return;
    const db = await this.readerFor(end);
    const where = ['seq >= $1', 'seq <= $2'];
    const args: unknown[] = [];
    if (filter?.mesh !== undefined) where.push(`mesh = $${3 + args.push(filter.mesh) - 1}`);
    if (filter?.type !== undefined) where.push(`type = $${3 + args.push(filter.type) - 1}`);
    if (filter?.name !== undefined) where.push(`name = $${3 + args.push(filter.name) - 1}`);
    if (filter?.types !== undefined) where.push(`type = ANY($${3 + args.push(filter.types) - 1})`);
    const sql = `SELECT seq, payload FROM kuma_events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ${PAGE}`;
    for (;;) {
      const rows = await this.query<Row>('read', db, sql, [next, end, ...args]);
      for (const r of rows) yield toStored(r);
      if (rows.length < PAGE) return;
      next = Number(rows[rows.length - 1]!.seq) + 1;
    }
  }

  /** The replica, for a range it already holds and for its share of reads; else the primary. */
  private async readerFor(end: number): Promise<pg.Pool> {
    if (!this.replica || Math.random() * 100 >= this.replicaRatio) return this.pool;
    try {
      const r = await this.replica.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM kuma_events');
      return Number(r.rows[0]?.seq ?? 0) >= end ? this.replica : this.pool;
    } catch (err) {
      this.opts.onError?.(err as Error, 'replica');
      return this.pool;
    }
  }

  follow(from: number, handler: (event: StoredEvent) => void, filter?: FollowFilter): Subscription {
    let next = Math.max(1, from);
    let stopped = false;
    const types = filter?.types;
    let wake: (() => void) | undefined;
    /** Resolves true when the poll interval passed, false when woken (a commit here, a notification). */
    const waitForMore = () =>
      new Promise<boolean>((resolve) => {
        const done = (polled: boolean) => {
          clearTimeout(timer);
          this.wakers.delete(woken);
          resolve(polled);
        };
        const woken = () => done(false);
        const timer = setTimeout(() => done(true), this.pollMs);
        wake = woken;
        this.wakers.add(woken);
      });
    this.listen();
    const loop = (async () => {
      let failures = 0;
      // Read the table first, after each poll interval, and whenever a commit is known past what was delivered.
      let read = true;
      let epoch = this.epoch;
      while (!stopped && !this.closed) {
        if (epoch !== this.epoch) {
          epoch = this.epoch;
          read = true;
        }
        // What this instance committed needs no query (see `recent`).
        for (let e = this.recent.get(next); e && !stopped; e = this.recent.get(next)) {
          next = e.seq + 1;
          if (types === undefined || types.includes(e.type)) handler(e);
        }
        if (stopped) return;
        if (!read && next > this.knownHead) {
          read = await waitForMore();
          continue;
        }
        let rows: Row[];
        /** With `types`: the head when the rows were read; every event up to it was read or is of another type. */
        let upTo = 0;
        try {
          if (types === undefined) rows = (await this.pool.query<Row>(`SELECT seq, payload FROM kuma_events WHERE seq >= $1 ORDER BY seq LIMIT ${PAGE}`, [next])).rows;
          else {
            // Sequences become visible in order (they are assigned under the commit lock), so what
            // a filtered read skips below the head it saw is of other types, never uncommitted.
            upTo = await this.head();
            rows = (await this.pool.query<Row>(`SELECT seq, payload FROM kuma_events WHERE seq >= $1 AND seq <= $2 AND type = ANY($3) ORDER BY seq LIMIT ${PAGE}`, [next, upTo, types])).rows;
          }
          failures = 0;
        } catch (err) {
          if (stopped) return;
          this.opts.onError?.(err as Error, 'follow');
          await sleep(Math.min(5000, 100 * 2 ** failures++));
          continue;
        }
        let gap = false;
        for (const r of rows) {
          const seq = Number(r.seq);
          if (types === undefined && seq !== next && !(await this.gapIsFinal(seq))) {
            gap = true;
            break;
          }
          if (stopped) return;
          next = seq + 1;
          handler(toStored(r));
        }
        if (rows.length === PAGE && !gap) continue;
        if (types !== undefined && upTo >= next) next = upTo + 1;
        if (gap) {
          // Not final yet: look again after a poll interval, not at once.
          await sleep(this.pollMs);
          read = true;
          continue;
        }
        // A notified head is a hint (another control plane on the same database notifies too): a
        // read that found nothing new waits for the next wake or poll rather than reading again.
        read = false;
        if (!stopped && (rows.length === 0 || next > this.knownHead)) read = await waitForMore();
      }
    })();
    this.followers.add(loop);
    // The handler must not throw (port.ts); if it does, or a row does not parse, the follower stops and says so.
    void loop.catch((err: Error) => this.opts.onError?.(err, 'follow handler')).finally(() => this.followers.delete(loop));
    return {
      stop: async () => {
        stopped = true;
        wake?.();
        await loop.catch(() => undefined);
      },
    };
  }

  /** The events before `seq` that a follower lacks are missing: final if retention removed them (first() is past them). See the class comment. */
  private async gapIsFinal(seq: number): Promise<boolean> {
    try {
      return (await this.first()) >= seq;
    } catch {
      return false;
    }
  }

  /** One LISTEN connection per log, reconnected with backoff while followers exist. */
  private listen(): void {
    if (this.listening || this.closed) return;
    this.listening = (async () => {
      let failures = 0;
      while (!this.closed) {
        const client = new pg.Client(this.opts.pool);
        // Held before it connects, so close() can end it while it connects or LISTENs.
        this.listener = client;
        const lost = new Promise<Error>((resolve) => {
          client.on('error', resolve);
          client.on('end', () => resolve(new Error('connection ended')));
        });
        try {
          // pg's connect() never settles when end() is called while it connects (close() does):
          // the connection's end settles it instead.
          const connecting = client.connect();
          connecting.catch(() => undefined);
          await Promise.race([connecting, lost.then((err) => Promise.reject(err))]);
          client.on('notification', (n) => {
            const head = Number(n.payload);
            if (Number.isSafeInteger(head) && head > this.knownHead) this.knownHead = head;
            this.wake();
          });
          await client.query(`LISTEN ${CHANNEL}`);
          if (this.closed) break;
          failures = 0;
          // Whatever was committed while this connection was down (its notifications are lost): followers read now.
          this.epoch++;
          this.wake();
          const err = await lost;
          if (!this.closed) this.opts.onError?.(err, 'listen');
        } catch (err) {
          if (!this.closed) this.opts.onError?.(err as Error, 'listen');
        } finally {
          this.listener = undefined;
          await endClient(client);
        }
        if (!this.closed) await sleep(Math.min(5000, 100 * 2 ** failures++));
      }
    })();
  }

  private wake(): void {
    for (const w of [...this.wakers]) w();
  }

  async history(key: { readonly type: string; readonly mesh?: string; readonly name: string }): Promise<StoredEvent[]> {
    const rows = await this.query<Row>('history', this.pool, 'SELECT seq, payload FROM kuma_events WHERE type = $1 AND mesh = $2 AND name = $3 ORDER BY seq', [key.type, meshCol(key), key.name]);
    return rows.map(toStored);
  }

  async head(): Promise<number> {
    return Number((await this.query<{ seq: string }>('head', this.pool, HEAD_SQL))[0]?.seq ?? 0);
  }

  async first(): Promise<number> {
    return Number((await this.query<{ seq: string }>('first', this.pool, 'SELECT seq FROM kuma_events ORDER BY seq LIMIT 1'))[0]?.seq ?? 1);
  }

  /** A read's rows; a failure to reach the database is EventLogUnavailableError naming `what`. */
  private async query<R extends object>(what: string, db: pg.Pool, sql: string, args: unknown[] = []): Promise<R[]> {
    try {
      return (await db.query<R>(sql, args)).rows;
    } catch (err) {
      throw unavailable(err, what);
    }
  }

  /**
   * Retention, as a stream's age limit: removes the oldest events up to the first one written at
   * or after `before` (RFC 3339), so what remains is a suffix of the log (followers tell a
   * removed prefix by `first()`). Resource versions survive in kuma_heads, so optimistic
   * concurrency still holds for resources whose events are gone. Returns how many were removed.
   */
  async removeOlderThan(before: string, opts: { readonly keepUncheckpointed?: boolean } = {}): Promise<number> {
    // The latest event always stays: the head (and so the next sequence) is read from it. With
    // `keepUncheckpointed`, so does every event after the newest checkpoint (none without one):
    // a projection must be able to start from a checkpoint and what follows it.
    const checkpointed = opts.keepUncheckpointed ? ', (SELECT coalesce(max(seq), 0) + 1 FROM kuma_checkpoints)' : '';
    const r = await this.pool.query(
      `DELETE FROM kuma_events WHERE seq < least((SELECT min(seq) FROM kuma_events WHERE time >= $1), (SELECT max(seq) FROM kuma_events)${checkpointed})`,
      [before],
    );
    const first = await this.first();
    for (const seq of this.recent.keys()) if (seq < first) this.recent.delete(seq);
    return r.rowCount ?? 0;
  }

  /** The primary's pool, for what lives beside the log (checkpoints, leases). */
  get database(): pg.Pool {
    return this.pool;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writing;
    this.wake();
    await Promise.all([...this.followers].map((f) => f.catch(() => undefined)));
    if (this.listener) await endClient(this.listener);
    await this.listening?.catch(() => undefined);
    await this.pool.end().catch(() => undefined);
    await this.replica?.end().catch(() => undefined);
  }
}

/**
 * Ends a client, bounded: pg's end() on a client still connecting can wait for an 'end' that
 * never comes, so after a second its socket is destroyed.
 */
async function endClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ended = client.end().catch(() => undefined);
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      resolve();
    }, 1000);
  });
  await Promise.race([ended, late]);
  clearTimeout(timer);
}
