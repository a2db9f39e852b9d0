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
import { LiveProjection } from '../../libs/projection/live-projection.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';
import { PostgresServer } from '../../libs/testkit/postgres-server.ts';
import { putLoad, rebuild } from './foundation.ts';
import { percentile, round } from './stats.ts';

const FOLLOW_SAMPLES = Number(process.env['BENCH_FOLLOW_SAMPLES'] ?? 500);

async function database(server: PostgresServer, name: string): Promise<string> {
  server.createDatabase(name);
  const pool = new pg.Pool({ connectionString: server.url(name) });
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
    for (const [store, env] of [
      ['embedded', { KUMA_STORE_TYPE: 'embedded' }],
      ['nats', { KUMA_STORE_TYPE: 'nats', KUMA_STORE_NATS_URL: nats.url, KUMA_STORE_NATS_STREAM: `BENCH_${randomUUID().slice(0, 8)}` }],
      ['postgres', pgEnv],
    ] as const) {
      process.stderr.write(`PUT load on ${store}...\n`);
      puts.push(await putLoad(store, env));
    }
    console.table(puts);

    process.stderr.write('follow latency to a second replica on postgres...\n');
    const follow = await followLatency(await database(server, 'follow'));
    console.log('follow (commit to a second replica’s projection):', follow);

    process.stderr.write('projection rebuild on postgres...\n');
    const rebuildUrl = await database(server, 'rebuild');
    const rebuilds = [await rebuild('postgres', () => PostgresEventLog.open({ pool: { connectionString: rebuildUrl } }))];
    console.table(rebuilds);
    return { puts, follow, rebuilds };
  } finally {
    await nats.stop();
    await server.stop();
  }
}
