/**
 * Translation micro-benchmark, in one process (no network): the projector's SnapshotGenerator
 * feeding a SnapshotCache that watches every proxy, as `kuma-cp run` does.
 * 1. cold: generating every proxy's snapshot once (what a projector does at start-up);
 * 2. endpoint: one new instance of svc-0, which every proxy calls (served by reference: one new
 *    ClusterLoadAssignment per slot, no consumer re-translated);
 * 3. consumer: one proxy's own Dataplane changed (one translation).
 * CPU ms per step, median of BENCH_TRANSLATE_REPS repetitions. BENCH_TRANSLATE_PROXIES (10,000),
 * services (1,000), outbounds (20). Figures are for comparisons in the same run only.
 */
import { setImmediate as tick } from 'node:timers/promises';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { StoredEvent } from '../../libs/event-log/event.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import { SnapshotCache } from '../../libs/xds/snapshot-cache.ts';
import { SnapshotGenerator } from '../../services/projector/generator.ts';
import { XdsMetrics } from '../../libs/xds/metrics.ts';
import { cpuMsSince, median, round } from './stats.ts';
import { dataplaneBody, type Topology } from './topology.ts';

const PROXIES = Number(process.env['BENCH_TRANSLATE_PROXIES'] ?? 10_000);
const SERVICES = Number(process.env['BENCH_TRANSLATE_SERVICES'] ?? 1_000);
const OUTBOUNDS = Number(process.env['BENCH_TRANSLATE_OUTBOUNDS'] ?? 20);
const REPS = Number(process.env['BENCH_TRANSLATE_REPS'] ?? 5);

let seq = 0;
const resource = (type: string, mesh: string | undefined, name: string, spec: Record<string, unknown>): Resource => ({
  meta: { type, ...(mesh ? { mesh } : {}), name, labels: {}, creationTime: '2026-12-01T00:00:00Z', modificationTime: '2026-12-01T00:00:00Z', version: ++seq },
  spec,
});
const eventOf = (r: Resource): StoredEvent =>
  ({ seq: r.meta.version, id: String(r.meta.version), time: new Date().toISOString(), actor: { subject: 'bench', source: 'rest' }, type: r.meta.type, ...(r.meta.mesh ? { mesh: r.meta.mesh } : {}), name: r.meta.name, op: 'upsert', resource: { labels: {}, creationTime: r.meta.creationTime, modificationTime: r.meta.modificationTime, spec: r.spec } }) as unknown as StoredEvent;


function dp(t: Topology, i: number, port = 8080): Resource {
  const body = dataplaneBody(t, i, port) as { name: string; networking: unknown };
  return resource('Dataplane', 'default', body.name, { networking: body.networking });
}

export async function run(): Promise<unknown> {
  const t: Topology = { proxies: PROXIES, services: SERVICES, outbounds: OUTBOUNDS };
  let served = 0;
  const cache = new SnapshotCache({ onFirstWatch: (key) => gen.onWatch(key) });
  const gen = new SnapshotGenerator(cache, new XdsMetrics(new Registry()), pino({ level: 'silent' }), { debounceMs: 0 });
  const settle = async () => {
    for (let i = 0; i < 3; i++) await tick();
    await new Promise((r) => setTimeout(r, 1));
    await tick();
  };
  gen.onEvent(eventOf(resource('Mesh', undefined, 'default', {})), resource('Mesh', undefined, 'default', {}));
  for (let i = 0; i < PROXIES; i++) {
    const r = dp(t, i);
    gen.onEvent(eventOf(r), r);
  }
  await settle();

  let start = process.cpuUsage();
  for (let i = 0; i < PROXIES; i++) cache.watch(`default.dp-${i}`, () => served++);
  const cold = cpuMsSince(start);

  const endpoint: number[] = [];
  const consumer: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    // a new instance of svc-0 (every proxy's outbound), then a change to one proxy's own Dataplane
    const extra = dp(t, PROXIES + rep * SERVICES, 9000 + rep);
    const before = served;
    start = process.cpuUsage();
    gen.onEvent(eventOf(extra), extra);
    await settle();
    endpoint.push(cpuMsSince(start));
    if (served - before < PROXIES) throw new Error(`endpoint change reached ${served - before} of ${PROXIES} proxies`);
    const own = dp(t, 7, 8081 + rep);
    start = process.cpuUsage();
    gen.onEvent(eventOf(own), own);
    await settle();
    consumer.push(cpuMsSince(start));
  }
  const results = {
    proxies: PROXIES,
    services: SERVICES,
    outbounds: OUTBOUNDS,
    coldGenerationCpuMs: round(cold),
    coldPerProxyCpuUs: round((cold * 1000) / PROXIES),
    endpointChangeCpuMs: round(median(endpoint)),
    ownDataplaneChangeCpuMs: round(median(consumer)),
    heapUsedMb: round(process.memoryUsage().heapUsed / 2 ** 20),
  };
  console.log(results);
  return results;
}
