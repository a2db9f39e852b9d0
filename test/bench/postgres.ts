/**
 * PostgreSQL store benchmark (issue 13), beside the same run's embedded and JetStream figures:
 * 1. PUT throughput and p50/p99 of BENCH_DATAPLANES (10,000) Dataplanes with BENCH_CONCURRENCY (64)
 *    clients against a real kuma-cp per store (target on postgres: at least 2,000 PUT/s);
 * 2. follow latency from an append's commit on one log instance to a second instance's projection
 *    (a second replica), p50/p99 over BENCH_FOLLOW_SAMPLES appends;
 * 3. projection rebuild from BENCH_REBUILD_EVENTS (100,000) events (target under 5 s).
 * The PostgreSQL server is this benchmark's own (initdb on a free port, fsync on as in production).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { NewEvent } from '../../libs/event-log/event.ts';
import { PostgresEventLog } from '../../libs/event-log/postgres.ts';
import { migrateUp } from '../../libs/event-log/postgres-schema.ts';
import { encodeCheckpoint } from '../../libs/projection/checkpoint.ts';
import { PostgresCheckpointStore } from '../../libs/projection/checkpoint-stores.ts';
import { CurrentState } from '../../libs/projection/current-state.ts';
import { LiveProjection } from '../../libs/projection/live-projection.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';
import { PostgresServer } from '../../libs/testkit/postgres-server.ts';
import { putLoad, rebuild } from './foundation.ts';
import { percentile, round } from './stats.ts';

const FOLLOW_SAMPLES = Number(process.env['BENCH_FOLLOW_SAMPLES'] ?? 500);

async function database(server: PostgresServer, name: string): Promise<string> {
  server.createDatabase(name);
  const pool = new pg.Pool({ connectionString: server.url(name) });
  pool.on('error', () => undefined);
  await migrateUp(pool);
  await pool.end();
  return server.url(name);
}

function event(name: string): NewEvent {
  const now = new Date().toISOString();
  return { id: randomUUID(), time: now, actor: { subject: 'bench', source: 'system' }, op: 'upsert', type: 'Dataplane', mesh: 'default', name, resource: { labels: {}, creationTime: now, modificationTime: now, spec: { networking: { address: '10.0.0.1' } } } };
}

/** Commit on `writer` to `reader`'s projection having applied it. */
async function followLatency(url: string) {
  const writer = await PostgresEventLog.open({ pool: { connectionString: url } });
  const reader = await PostgresEventLog.open({ pool: { connectionString: url } });
  const projection = new LiveProjection(reader);
  await projection.start();
  const latencies: number[] = [];
  for (let i = 0; i < FOLLOW_SAMPLES; i++) {
    const stored = await writer.append(event(`follow-${i % 100}`));
    const committed = performance.now();
    await projection.waitFor(stored.seq);
    latencies.push(performance.now() - committed);
  }
  await projection.stop();
  await Promise.all([writer.close(), reader.close()]);
  latencies.sort((a, b) => a - b);
  return { samples: FOLLOW_SAMPLES, p50ms: round(percentile(latencies, 50)), p99ms: round(percentile(latencies, 99)), maxMs: round(latencies[latencies.length - 1]!) };
}

/** BENCH_POSTGRES_ONLY=puts,follow,rebuild,startup (all by default). */
const ONLY = new Set((process.env['BENCH_POSTGRES_ONLY'] ?? 'puts,follow,rebuild,startup').split(',').map((p) => p.trim()));
const STARTUP_EVENTS = Number(process.env['BENCH_STARTUP_EVENTS'] ?? 1_000_000);

/**
 * `kuma-cp run` on a log of STARTUP_EVENTS events (a Mesh, then 20,000 Dataplanes each updated
 * in turn) with a checkpoint 1,000 events before the head: time from spawn to ready, against the
 * same log without a checkpoint.
 */
async function startup(server: PostgresServer, env: (db: string) => Record<string, string>) {
  const url = await database(server, 'startup');
  const db = new pg.Client({ connectionString: url });
  db.on('error', () => undefined);
  await db.connect();
  const t0 = performance.now();
  const mesh = event('default');
  const { mesh: _m, ...meshEvent } = { ...mesh, type: 'Mesh', resource: { labels: {}, creationTime: mesh.time, modificationTime: mesh.time, spec: {} } };
  void _m;
  await db.query(`INSERT INTO kuma_events (seq, id, type, mesh, name, op, prev, time, payload) VALUES (1, $1, 'Mesh', '', 'default', 'upsert', 0, now(), $2)`, [meshEvent.id, JSON.stringify(meshEvent)]);
  // The Dataplanes, in SQL: JSON text built per row, each name's `prev` its previous version.
  await db.query(
    `INSERT INTO kuma_events (seq, id, type, mesh, name, op, prev, time, payload)
     SELECT s, 'bench-' || s, 'Dataplane', 'default', 'dp-' || ((s - 2) % 20000), 'upsert', CASE WHEN s - 20000 >= 2 THEN s - 20000 ELSE 0 END, now(),
       json_build_object('id', 'bench-' || s, 'time', '2026-12-04T00:00:00.000Z', 'actor', json_build_object('subject', 'bench', 'source', 'system'),
         'op', 'upsert', 'type', 'Dataplane', 'mesh', 'default', 'name', 'dp-' || ((s - 2) % 20000),
         'resource', json_build_object('labels', '{}'::json, 'creationTime', '2026-12-04T00:00:00.000Z', 'modificationTime', '2026-12-04T00:00:00.000Z',
           'spec', json_build_object('networking', json_build_object('address', '10.0.' || ((s / 250) % 250) || '.' || (s % 250),
             'inbound', json_build_array(json_build_object('port', 8080, 'tags', json_build_object('kuma.io/service', 'svc-' || (s % 1000))))))))::text
     FROM generate_series(2, $1::bigint) AS s`,
    [STARTUP_EVENTS],
  );
  await db.query(`INSERT INTO kuma_heads (type, mesh, name, seq) SELECT type, mesh, name, max(seq) FROM kuma_events GROUP BY type, mesh, name`);
  const fillSeconds = (performance.now() - t0) / 1000;
  await db.end();

  const time = async () => {
    const t = performance.now();
    const cp = await KumaCpProcess.start({ env: { ...env('startup'), KUMA_LOG_LEVEL: 'warn', KUMA_STORE_CHECKPOINTS_INTERVAL: '0' } });
    const seconds = (performance.now() - t) / 1000;
    await cp.destroy();
    return round(seconds, 2);
  };
  process.stderr.write(`startup: ${STARTUP_EVENTS} events written in ${round(fillSeconds)} s; without a checkpoint...\n`);
  const withoutCheckpoint = await time();
  // A checkpoint 1,000 events before the head, as a replica that saved one recently would leave.
  const log = await PostgresEventLog.open({ pool: { connectionString: url } });
  const cut = new CurrentState();
  for await (const e of log.read(1, STARTUP_EVENTS - 1000)) cut.apply(e);
  const { meta, data } = await encodeCheckpoint(cut, mesh.id);
  await new PostgresCheckpointStore(log.database).save(meta, data);
  await log.close();
  process.stderr.write('startup: from a checkpoint...\n');
  const fromCheckpoint = await time();
  return { events: STARTUP_EVENTS, checkpointAt: meta.seq, checkpointBytes: meta.bytes, fillSeconds: round(fillSeconds), withoutCheckpointSeconds: withoutCheckpoint, fromCheckpointSeconds: fromCheckpoint };
}

export async function run(): Promise<unknown> {
  // fsync on: the figures are those of a durable store.
  const server = await PostgresServer.start({ settings: ['fsync=on', 'synchronous_commit=on'] });
  const nats = await NatsServer.start();
  try {
    await database(server, 'puts');
    const pgEnv = {
      KUMA_STORE_TYPE: 'postgres',
      KUMA_STORE_POSTGRES_HOST: '127.0.0.1',
      KUMA_STORE_POSTGRES_PORT: String(server.port),
      KUMA_STORE_POSTGRES_USER: 'postgres',
      KUMA_STORE_POSTGRES_PASSWORD: '',
      KUMA_STORE_POSTGRES_DB_NAME: 'puts',
    };
    const puts = [];
    for (const [store, env] of !ONLY.has('puts') ? [] : [
      ['embedded', { KUMA_STORE_TYPE: 'embedded' }],
      ['nats', { KUMA_STORE_TYPE: 'nats', KUMA_STORE_NATS_URL: nats.url, KUMA_STORE_NATS_STREAM: `BENCH_${randomUUID().slice(0, 8)}` }],
      ['postgres', pgEnv],
    ] as const) {
      process.stderr.write(`PUT load on ${store}...\n`);
      puts.push(await putLoad(store, env));
    }
    if (puts.length > 0) console.table(puts);

    let follow;
    if (ONLY.has('follow')) {
      process.stderr.write('follow latency to a second replica on postgres...\n');
      follow = await followLatency(await database(server, 'follow'));
      console.log('follow (commit to a second replica’s projection):', follow);
    }
    const rebuilds = [];
    if (ONLY.has('rebuild')) {
      process.stderr.write('projection rebuild on postgres...\n');
      const rebuildUrl = await database(server, 'rebuild');
      rebuilds.push(await rebuild('postgres', () => PostgresEventLog.open({ pool: { connectionString: rebuildUrl } })));
      console.table(rebuilds);
    }
    let start;
    if (ONLY.has('startup')) {
      process.stderr.write('start-up on postgres...\n');
      start = await startup(server, (db) => ({ ...pgEnv, KUMA_STORE_POSTGRES_DB_NAME: db }));
      console.log('start-up:', start);
    }
    return { puts, follow, rebuilds, startup: start };
  } finally {
    await nats.stop();
    await server.stop();
  }
}
