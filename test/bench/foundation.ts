/**
 * Foundation benchmark (issue 2):
 * 1. PUT throughput and latency of 10,000 Dataplanes against a real kuma-cp process per store
 *    (memory, embedded, nats), with concurrent clients from this process;
 * 2. time to rebuild the current-state projection from a log of 100,000 events, per adapter.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { openEmbeddedEventLog } from '../../libs/event-log/embedded.ts';
import type { NewEvent } from '../../libs/event-log/event.ts';
import { JetStreamEventLog } from '../../libs/event-log/jetstream.ts';
import { openMemoryEventLog } from '../../libs/event-log/memory.ts';
import type { EventLog } from '../../libs/event-log/port.ts';
import { LiveProjection } from '../../libs/projection/live-projection.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';
import { percentile, round } from './stats.ts';

const DATAPLANES = Number(process.env['BENCH_DATAPLANES'] ?? 10_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const REBUILD_EVENTS = Number(process.env['BENCH_REBUILD_EVENTS'] ?? 100_000);

const dataplane = (i: number) => ({
  type: 'Dataplane',
  mesh: 'default',
  name: `dp-${i}`,
  networking: {
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    inbound: [{ port: 8080, servicePort: 80, tags: { 'kuma.io/service': `svc-${i % 1000}`, 'kuma.io/protocol': 'http', version: 'v1' } }],
    outbound: [{ port: 10001, tags: { 'kuma.io/service': 'svc-0' } }],
  },
});

export async function putLoad(store: string, env: Record<string, string>) {
  const cp = await KumaCpProcess.start({ env: { ...env, KUMA_LOG_LEVEL: 'warn' } });
  const dispatcher = new Agent({ connections: CONCURRENCY, pipelining: 1 });
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < DATAPLANES; i = next++) {
        const t0 = performance.now();
        const res = await fetch(`${cp.url}/meshes/default/dataplanes/dp-${i}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(dataplane(i)),
          dispatcher,
        });
        await res.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (res.status !== 201) failures++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.close();
  await cp.destroy();
  latencies.sort((a, b) => a - b);
  return {
    store,
    dataplanes: DATAPLANES,
    concurrency: CONCURRENCY,
    failures,
    seconds: round(seconds),
    putsPerSecond: round(DATAPLANES / seconds, 0),
    p50ms: round(percentile(latencies, 50)),
    p99ms: round(percentile(latencies, 99)),
    maxMs: round(latencies[latencies.length - 1]!),
  };
}

function event(i: number): NewEvent {
  const dp = dataplane(i % 20_000);
  const { type, mesh, name, ...spec } = dp;
  const now = new Date().toISOString();
  return { id: randomUUID(), time: now, actor: { subject: 'bench', source: 'system' }, op: 'upsert', type, mesh, name, resource: { labels: {}, creationTime: now, modificationTime: now, spec } };
}

async function fill(log: EventLog, n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      for (let i = next++; i < n; i = next++) await log.append(event(i));
    }),
  );
}

export async function rebuild(store: string, open: () => Promise<EventLog>) {
  const writer = await open();
  const fillStart = performance.now();
  await fill(writer, REBUILD_EVENTS);
  const fillSeconds = (performance.now() - fillStart) / 1000;
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const reader = store === 'memory' ? writer : await open();
    const t0 = performance.now();
    const projection = new LiveProjection(reader);
    await projection.start();
    runs.push((performance.now() - t0) / 1000);
    if (projection.state.position !== REBUILD_EVENTS) throw new Error(`${store}: rebuilt to ${projection.state.position}`);
    await projection.stop();
    if (reader !== writer) await reader.close();
    if (store === 'embedded') break; // one process may hold the LevelDB lock: reopened below
  }
  await writer.close();
  runs.sort((a, b) => a - b);
  return {
    store,
    events: REBUILD_EVENTS,
    fillSeconds: round(fillSeconds),
    rebuildSecondsMedian: round(runs[Math.floor(runs.length / 2)]!, 3),
    rebuildEventsPerSecond: round(REBUILD_EVENTS / runs[Math.floor(runs.length / 2)]!, 0),
  };
}

export async function run(): Promise<unknown> {
  const nats = await NatsServer.start();
  try {
    const puts = [];
    for (const [store, env] of [
      ['memory', { KUMA_STORE_TYPE: 'memory' }],
      ['embedded', { KUMA_STORE_TYPE: 'embedded' }],
      ['nats', { KUMA_STORE_TYPE: 'nats', KUMA_STORE_NATS_URL: nats.url, KUMA_STORE_NATS_STREAM: `BENCH_${randomUUID().slice(0, 8)}` }],
    ] as const) {
      process.stderr.write(`PUT load on ${store}...\n`);
      puts.push(await putLoad(store, env));
    }
    console.table(puts);

    const rebuilds = [];
    process.stderr.write('projection rebuild on memory...\n');
    rebuilds.push(await rebuild('memory', openMemoryEventLog));
    const dir = mkdtempSync(join(tmpdir(), 'bench-embedded-'));
    process.stderr.write('projection rebuild on embedded...\n');
    let embeddedWriter: EventLog | undefined;
    rebuilds.push(
      await rebuild('embedded', async () => {
        if (!embeddedWriter) return (embeddedWriter = await openEmbeddedEventLog(dir));
        return embeddedWriter;
      }),
    );
    {
      // measure a cold rebuild from disk in a fresh open
      const log = await openEmbeddedEventLog(dir);
      const t0 = performance.now();
      const p = new LiveProjection(log);
      await p.start();
      const s = (performance.now() - t0) / 1000;
      await p.stop();
      await log.close();
      Object.assign(rebuilds[1]!, { rebuildSecondsMedian: round(s, 3), rebuildEventsPerSecond: round(REBUILD_EVENTS / s, 0) });
    }
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write('projection rebuild on nats...\n');
    const stream = `REBUILD_${randomUUID().slice(0, 8)}`;
    rebuilds.push(await rebuild('nats', () => JetStreamEventLog.open({ servers: nats.url, stream, subjectPrefix: stream.toLowerCase() })));
    console.table(rebuilds);
    return { puts, rebuilds };
  } finally {
    await nats.stop();
  }
}
