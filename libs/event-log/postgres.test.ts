import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresServer } from '../testkit/postgres-server.ts';
import { describeEventLog, until, upsert } from './contract.ts';
import { EventLogUnavailableError, VersionConflictError } from './errors.ts';
import type { NewEvent, StoredEvent } from './event.ts';
import { PostgresEventLog } from './postgres.ts';
import { checkSchema, LATEST_VERSION, migrateUp, SchemaError } from './postgres-schema.ts';

let server: PostgresServer;
let databases = 0;

/**
 * A pool for the test's own queries. pg's pool.end() returns before its clients' sockets close,
 * and a server stopping then makes the pool emit 'error': with no listener, that is a crash.
 */
function testPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined);
  return pool;
}

/** A fresh database with the current schema. */
async function freshDatabase(): Promise<pg.PoolConfig> {
  const name = `log_${++databases}`;
  server.createDatabase(name);
  const config = { connectionString: server.url(name), max: 10 };
  const pool = testPool(config);
  await migrateUp(pool);
  await pool.end();
  return config;
}

const open = (config: pg.PoolConfig, pollMs = 200) => PostgresEventLog.open({ pool: config, pollMs });

beforeAll(async () => {
  server = await PostgresServer.start();
}, 60_000);
afterAll(async () => server?.stop());

describeEventLog('postgres', {
  async open() {
    const config = await freshDatabase();
    return { log: await open(config), reopen: () => open(config) };
  },
});

async function collect(it: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('PostgreSQL event log across replicas', () => {
  it('lets exactly one of 50 writers spread over two replicas win each version', async () => {
    const config = await freshDatabase();
    const [a, b] = [await open(config), await open(config)];
    try {
      const base = await a.append(upsert('hot'));
      const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).append(upsert('hot'), { expectedVersion: base.seq })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(VersionConflictError);
      // Unconditional writes from both interleave with consecutive sequences.
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append(upsert(`n${i}`))));
      const seqs = (await collect(b.read(1))).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("follows another replica's appends through LISTEN/NOTIFY, and by polling when notifications are lost", async () => {
    const config = await freshDatabase();
    // A poll interval far beyond the test: only notifications can deliver in time.
    const [writer, reader] = [await open(config), await PostgresEventLog.open({ pool: config, pollMs: 60_000 })];
    const seen: number[] = [];
    const sub = reader.follow(1, (e) => seen.push(e.seq));
    try {
      await writer.append(upsert('first'));
      await until(() => seen.length === 1);
      // Events written behind the log's back notify nobody: the poller finds them.
      const polled = await PostgresEventLog.open({ pool: config, pollMs: 100 });
      const late: number[] = [];
      const sub2 = polled.follow(1, (e) => late.push(e.seq));
      const raw = new pg.Client({ connectionString: (config as { connectionString: string }).connectionString });
      await raw.connect();
      const e = upsert('silent');
      await raw.query(`INSERT INTO kuma_events (seq, id, type, mesh, name, op, prev, time, payload) VALUES (2, $1, 'Dataplane', 'default', 'silent', 'upsert', 0, now(), $2)`, [e.id, JSON.stringify(e)]);
      await raw.end();
      await until(() => late.length === 2);
      expect(late).toEqual([1, 2]);
      await sub2.stop();
      await polled.close();
    } finally {
      await sub.stop();
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it('keeps a follower going past events that retention removed, and versions past their events', async () => {
    const config = await freshDatabase();
    const log = await open(config);
    try {
      const old = { time: '2020-01-01T00:00:00Z' } as Partial<NewEvent>;
      const a = await log.append(upsert('a', old));
      await log.append(upsert('b', old));
      await log.append(upsert('c'));
      // Kept while no checkpoint covers them: a projection could not start without them.
      expect(await log.removeOlderThan('2021-01-01T00:00:00Z', { keepUncheckpointed: true })).toBe(0);
      await log.database.query(`INSERT INTO kuma_checkpoints (seq, meta, data) VALUES (1, '{}', '')`);
      expect(await log.removeOlderThan('2021-01-01T00:00:00Z', { keepUncheckpointed: true })).toBe(1);
      expect(await log.removeOlderThan('2021-01-01T00:00:00Z')).toBe(1);
      expect(await log.first()).toBe(3);
      const seen: number[] = [];
      const sub = log.follow(1, (e) => seen.push(e.seq));
      await until(() => seen.length === 1);
      expect(seen).toEqual([3]);
      await sub.stop();
      // a's events are gone, its version is not.
      await expect(log.append(upsert('a'), { expectedVersion: 0 })).rejects.toBeInstanceOf(VersionConflictError);
      expect((await log.append(upsert('a'), { expectedVersion: a.seq })).seq).toBe(4);
      // The latest event always stays.
      await log.removeOlderThan('2999-01-01T00:00:00Z');
      expect(await log.head()).toBe(4);
    } finally {
      await log.close();
    }
  });
});

describe('PostgreSQL event log on a hostile database', () => {
  it('reads the head under READ COMMITTED even where the database defaults to REPEATABLE READ', async () => {
    const config = await freshDatabase();
    const admin = new pg.Client({ connectionString: (config as { connectionString: string }).connectionString });
    await admin.connect();
    await admin.query(`ALTER DATABASE ${`log_${databases}`} SET default_transaction_isolation TO 'repeatable read'`);
    await admin.end();
    const [a, b] = [await open(config), await open(config)];
    try {
      const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append(upsert(`rr-${i}`))));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(await a.head()).toBe(40);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("fails only the job whose data the database refuses, not the others committed with it", async () => {
    const config = await freshDatabase();
    const log = await open(config);
    try {
      const r1 = await log.append(upsert('r'));
      // A row written behind the log's back: r's version 1 has a successor that kuma_heads does not know.
      const rogue = upsert('r');
      await log.database.query(`INSERT INTO kuma_events (seq, id, type, mesh, name, op, prev, time, payload) VALUES (2, $1, 'Dataplane', 'default', 'r', 'upsert', $2, now(), $3)`, [rogue.id, r1.seq, JSON.stringify(rogue)]);
      // Both in one group commit: r collides on the successor index, s is fine.
      const [r, s2] = await Promise.allSettled([log.append(upsert('r')), log.append(upsert('s'))]);
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
      expect(s2.status).toBe('fulfilled');
      expect((s2 as PromiseFulfilledResult<StoredEvent>).value.seq).toBe(3);
    } finally {
      await log.close();
    }
  });

  it('closes at once even while its LISTEN connection is still being made', async () => {
    const config = await freshDatabase();
    const log = await open(config);
    const sub = log.follow(1, () => undefined);
    await sub.stop();
    const started = Date.now();
    await log.close();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('does not spin on a notified head that is not there', async () => {
    const config = await freshDatabase();
    const log = await PostgresEventLog.open({ pool: config, pollMs: 60_000 });
    const sub = log.follow(1, () => undefined);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const raw = new pg.Client({ connectionString: (config as { connectionString: string }).connectionString });
      await raw.connect();
      const scans = async () => Number((await raw.query<{ n: string }>(`SELECT (coalesce(seq_scan, 0) + coalesce(idx_scan, 0))::text AS n FROM pg_stat_user_tables WHERE relname = 'kuma_events'`)).rows[0]!.n);
      const before = await scans();
      await raw.query(`NOTIFY kuma_events, '1000'`);
      // The server publishes a backend's statistics at most every second: wait past that.
      await new Promise((r) => setTimeout(r, 2500));
      const after = await scans();
      await raw.end();
      // One read for the notification (statistics lag a little; a spin would be thousands).
      expect(after - before).toBeLessThan(20);
    } finally {
      await sub.stop();
      await log.close();
    }
  });
});

describe('PostgreSQL stopped and restarted under writes', () => {
  it('keeps every acknowledged write, fails the others with EventLogUnavailableError, and recovers by itself', async () => {
    const own = await PostgresServer.start();
    const pool = testPool({ connectionString: own.url() });
    await migrateUp(pool);
    await pool.end();
    const log = await PostgresEventLog.open({ pool: { connectionString: own.url(), connectionTimeoutMillis: 1000 }, pollMs: 100 });
    const seen = new Set<string>();
    const sub = log.follow(1, (e) => seen.add(e.id));
    const acked: StoredEvent[] = [];
    const failed: unknown[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        try {
          acked.push(await log.append(upsert(`w${i}`)));
        } catch (err) {
          failed.push(err);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    try {
      await until(() => acked.length >= 20);
      await own.kill();
      await until(() => failed.length >= 3);
      await own.restart();
      const before = acked.length;
      await until(() => acked.length >= before + 20, 20_000);
      writing = false;
      await writer;
      for (const err of failed) expect(err).toBeInstanceOf(EventLogUnavailableError);
      const stored = new Map((await collect(log.read(1))).map((e) => [e.id, e.seq]));
      for (const e of acked) expect(stored.get(e.id), e.name).toBe(e.seq);
      expect([...stored.values()]).toEqual(Array.from({ length: stored.size }, (_, i) => i + 1));
      await until(() => seen.size === stored.size, 10_000);
    } finally {
      writing = false;
      await sub.stop();
      await log.close();
      await own.stop();
    }
  }, 60_000);
});

describe('PostgreSQL schema', () => {
  it('refuses a database that is empty, behind, ahead or half-migrated, and Kuma’s own, naming what to do', async () => {
    const name = `schema_${++databases}`;
    server.createDatabase(name);
    const pool = testPool({ connectionString: server.url(name) });
    try {
      await expect(checkSchema(pool, { tolerateNewer: false })).rejects.toThrow(/no kuma-cp schema: run "kuma-cp migrate up"/);
      expect(await migrateUp(pool)).toEqual([LATEST_VERSION]);
      expect(await migrateUp(pool)).toEqual([]);
      await checkSchema(pool, { tolerateNewer: false });
      await pool.query('UPDATE schema_migrations SET version = version - 1');
      await expect(checkSchema(pool, { tolerateNewer: false })).rejects.toThrow(/behind this kuma-cp's .*: run "kuma-cp migrate up"/);
      await pool.query('UPDATE schema_migrations SET version = $1', [LATEST_VERSION + 1]);
      await expect(checkSchema(pool, { tolerateNewer: false })).rejects.toThrow(/KUMA_STORE_POSTGRES_TOLERATE_NEWER_DB_VERSIONS/);
      await checkSchema(pool, { tolerateNewer: true });
      await pool.query('UPDATE schema_migrations SET version = $1, dirty = true', [LATEST_VERSION]);
      await expect(checkSchema(pool, { tolerateNewer: false })).rejects.toBeInstanceOf(SchemaError);
    } finally {
      await pool.end();
    }
    const kuma = `kuma_${++databases}`;
    server.createDatabase(kuma);
    const k = testPool({ connectionString: server.url(kuma) });
    try {
      await k.query('CREATE TABLE resources (name varchar(253), mesh varchar(100), type varchar(100), version integer, spec text)');
      await k.query('CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)');
      await k.query('INSERT INTO schema_migrations VALUES (1710856785, false)');
      await expect(checkSchema(k, { tolerateNewer: true })).rejects.toThrow(/Kuma database .*import-kuma/);
      await expect(migrateUp(k)).rejects.toThrow(/Kuma database/);
    } finally {
      await k.end();
    }
  });
});
