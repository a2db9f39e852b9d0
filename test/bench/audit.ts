/**
 * Audit and replay benchmark (issue 5), on JetStream:
 * 1. writes BENCH_AUDIT_EVENTS (1,000,000) events over 10,000 Dataplanes in 10 meshes straight
 *    into the log, in windows of concurrent appends;
 * 2. start-up of a kuma-cp process with no checkpoint (replays everything): time to ready and
 *    the projection's own catch-up time from its log;
 * 3. checkpoints made as a live control plane would (every 10,000 events; keep 3, plus one per
 *    100,000), then start-up from the newest;
 * 4. time-travel reads 500,000 events back: a list and a get, cold and warm;
 * 5. replay-verify throughput through the API, against the floor of reading the log alone.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { NewEvent } from '../../libs/event-log/event.ts';
import { JetStreamEventLog } from '../../libs/event-log/jetstream.ts';
import { NatsCheckpointStore } from '../../libs/projection/checkpoint-stores.ts';
import { Checkpointer } from '../../libs/projection/checkpointer.ts';
import { LiveProjection } from '../../libs/projection/live-projection.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';
import { round } from './stats.ts';

const EVENTS = Number(process.env['BENCH_AUDIT_EVENTS'] ?? 1_000_000);
const RESOURCES = 10_000;
const MESHES = 10;
const WINDOW = 2000;
const STREAM = 'KUMA_EVENTS';
const BACK = Math.min(500_000, Math.floor(EVENTS / 2));

function event(i: number, base: number): NewEvent {
  const time = new Date(base + i).toISOString();
  if (i < MESHES) {
    return { id: randomUUID(), time, actor: { subject: 'bench', source: 'system' }, op: 'upsert', type: 'Mesh', name: `mesh-${i}`, resource: { labels: {}, creationTime: time, modificationTime: time, spec: {} } };
  }
  const r = i % RESOURCES;
  return {
    id: randomUUID(),
    time,
    actor: { subject: 'bench', source: 'rest', requestId: `r${i}` },
    op: 'upsert',
    type: 'Dataplane',
    mesh: `mesh-${r % MESHES}`,
    name: `dp-${r}`,
    resource: {
      labels: { 'kuma.io/mesh': `mesh-${r % MESHES}` },
      creationTime: time,
      modificationTime: time,
      spec: {
        networking: {
          address: `10.0.${(r >> 8) & 255}.${r & 255}`,
          inbound: [{ port: 8080, tags: { 'kuma.io/service': `svc-${r % 500}`, 'kuma.io/protocol': 'http', revision: String(i) } }],
        },
      },
    },
  };
}

async function fill(log: JetStreamEventLog): Promise<number> {
  const base = Date.now() - EVENTS - 3_600_000;
  const started = performance.now();
  let next = 0;
  let lastReport = started;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      for (let i = next++; i < EVENTS; i = next++) {
        await log.append(event(i, base));
        if (performance.now() - lastReport > 5000) {
          lastReport = performance.now();
          console.log(`  wrote ${i} events`);
        }
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Starts kuma-cp on the stream and returns its time to ready and its projection's catch-up line. */
async function startCp(nats: NatsServer, env: Record<string, string> = {}) {
  const t0 = performance.now();
  const cp = await KumaCpProcess.start({
    env: { KUMA_STORE_TYPE: 'nats', KUMA_STORE_NATS_URL: nats.url, KUMA_STORE_NATS_STREAM: STREAM, KUMA_LOG_LEVEL: 'info', KUMA_DEFAULTS_SKIP_MESH_CREATION: 'true', ...env },
  });
  const readySeconds = (performance.now() - t0) / 1000;
  const line = cp.output.split('\n').find((l) => l.includes('projection caught up'));
  const parsed = line ? (JSON.parse(line) as { ms: number; position: number; fromCheckpoint: number | null }) : undefined;
  return { cp, readySeconds: round(readySeconds), projectionSeconds: parsed ? round(parsed.ms / 1000) : null, fromCheckpoint: parsed?.fromCheckpoint ?? null };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, round(performance.now() - t0, 1)];
}

export async function run() {
  const nats = await NatsServer.start();
  const logger = pino({ level: 'silent' });
  try {
    const log = await JetStreamEventLog.open({ servers: nats.url, stream: STREAM });
    console.log(`writing ${EVENTS} events over ${RESOURCES} dataplanes...`);
    const writeSeconds = await fill(log);
    console.log(`  ${round(EVENTS / writeSeconds)} events/s`);

    // Floor: read the whole log and fold it, in this process, with no checkpoint.
    const [, floorMs] = await timed(async () => {
      const p = new LiveProjection(log);
      await p.start();
      await p.stop();
    });
    console.log(`floor: in-process replay of ${EVENTS} events ${floorMs} ms`);

    const cold = await startCp(nats, { KUMA_STORE_CHECKPOINTS_INTERVAL: '0' });
    console.log(`start-up without a checkpoint: ready in ${cold.readySeconds} s (projection ${cold.projectionSeconds} s)`);
    await cold.cp.destroy();

    // Checkpoints as a live control plane leaves them: every 10,000 events, keep 3 + one per 100,000.
    const store = await NatsCheckpointStore.open(log.nc, STREAM, 1);
    let clusterId = '';
    const live = new LiveProjection(log);
    const checkpointer = new Checkpointer(store, { interval: 10_000, keep: 3, archiveEvery: 100_000 }, () => clusterId, logger);
    const [, checkpointingMs] = await timed(async () => {
      // Deterministic: each due checkpoint is saved before going on, as at live write rates.
      for await (const e of log.read(1)) {
        if (clusterId === '') clusterId = e.id;
        live.state.apply(e);
        if (e.seq % 10_000 === 0) await checkpointer.flush(live.state);
      }
      await checkpointer.flush(live.state);
    });
    const checkpoints = await store.list();
    console.log(`checkpointed while following: ${checkpoints.length} kept (${checkpoints.map((c) => c.seq).join(', ')}), ${round(checkpoints.at(-1)!.bytes / 1e6)} MB each, ${checkpointingMs} ms`);

    const warm = await startCp(nats);
    console.log(`start-up from checkpoint ${warm.fromCheckpoint}: ready in ${warm.readySeconds} s (projection ${warm.projectionSeconds} s)`);

    const head = live.state.position;
    const at = head - BACK;
    // The worst case: just before the next kept checkpoint, the most events to replay.
    const base = checkpoints.filter((c) => c.seq <= at).at(-1)?.seq ?? 0;
    const next = checkpoints.find((c) => c.seq > at)?.seq ?? head;
    const worst = next - 1;
    const [listCold, listColdMs] = await timed(() => http(warm.cp.url, 'GET', `/meshes/mesh-1/dataplanes?size=10&at=${at}`));
    const [, listWarmMs] = await timed(() => http(warm.cp.url, 'GET', `/meshes/mesh-1/dataplanes?size=10&at=${at}`));
    const [getOne, getMs] = await timed(() => http(warm.cp.url, 'GET', `/meshes/mesh-3/dataplanes/dp-3?at=${at}`));
    const [worstRes, worstMs] = await timed(() => http(warm.cp.url, 'GET', `/meshes/mesh-1/dataplanes?size=10&at=${worst}`));
    if (worstRes.status !== 200) throw new Error(`time-travel read failed: ${worstRes.status}`);
    console.log(`  worst case: at ${worst}, ${worst - (checkpoints.filter((c) => c.seq <= worst).at(-1)?.seq ?? 0)} events after a checkpoint: ${worstMs} ms`);
    const [, atLiveMs] = await timed(() => http(warm.cp.url, 'GET', `/meshes/mesh-1/dataplanes?size=10`));
    if (listCold.status !== 200 || getOne.status !== 200) throw new Error(`time-travel read failed: ${listCold.status} ${getOne.status}`);
    console.log(`time travel ${BACK} events back (at ${at}, ${at - base} events after checkpoint ${base}): list cold ${listColdMs} ms, warm ${listWarmMs} ms; get ${getMs} ms (a live list: ${atLiveMs} ms)`);

    const [verifyText, verifyMs] = await timed(async () => (await fetch(`${warm.cp.url}/_replay/verify`, { method: 'POST' })).text());
    const result = JSON.parse(verifyText.trim().split('\n').at(-1)!).result as { ok: boolean; events: number; eventsPerSecond: number; seconds: number; checkpoints: unknown[] };
    console.log(`replay-verify: ok=${result.ok}, ${result.events} events in ${round(result.seconds)} s = ${result.eventsPerSecond} events/s (floor ${round(EVENTS / (floorMs / 1000))} events/s), ${result.checkpoints.length} checkpoints checked, request ${verifyMs} ms`);
    await warm.cp.destroy();
    await store.close();
    await log.close();

    return {
      events: EVENTS,
      resources: RESOURCES,
      writeEventsPerSecond: round(EVENTS / writeSeconds),
      startupWithoutCheckpoint: { readySeconds: cold.readySeconds, projectionSeconds: cold.projectionSeconds },
      startupFromCheckpoint: { readySeconds: warm.readySeconds, projectionSeconds: warm.projectionSeconds, fromCheckpoint: warm.fromCheckpoint },
      startupRatio: cold.projectionSeconds && warm.projectionSeconds ? round(cold.projectionSeconds / warm.projectionSeconds, 1) : null,
      checkpoints: { kept: checkpoints.map((c) => c.seq), bytes: checkpoints.at(-1)!.bytes },
      timeTravel: { eventsBack: BACK, at, replayedFromCheckpoint: at - base, listColdMs, listWarmMs, getMs, liveListMs: atLiveMs, worstCase: { at: worst, replayed: worst - (checkpoints.filter((c) => c.seq <= worst).at(-1)?.seq ?? 0), ms: worstMs } },
      replayVerify: { ok: result.ok, eventsPerSecond: result.eventsPerSecond, seconds: round(result.seconds), floorEventsPerSecond: round(EVENTS / (floorMs / 1000)), checkpointsChecked: result.checkpoints.length },
    };
  } finally {
    await nats.stop();
  }
}
