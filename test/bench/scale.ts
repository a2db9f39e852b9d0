/**
 * Scale-out benchmark (issue 4): simulated Envoy ADS streams against
 * 1. the distributed control plane as separate processes on one nats-server (the layout of
 *    `npm run cluster:local`: 1 api, 2 projectors, 2 gateways), proxies split between gateways;
 * 2. a single kuma-cp process (all roles, memory store);
 * 3. the floor: an ADS server that only writes pre-encoded responses.
 * Load: BENCH_SCALE_PROXIES (10,000) proxies over BENCH_SCALE_SERVICES (1,000) services, so 10
 * instances each; every proxy has BENCH_SCALE_OUTBOUNDS (20) outbounds, svc-0 among them.
 * Measures: time to full initial config; propagation of one svc-0 endpoint change to all
 * proxies (p50/p99/max over BENCH_SCALE_REPS, 10); a burst of 1,000 changes in one second until
 * everything settles; gateway RSS per stream; projector CPU per change.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent } from 'undici';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { KumaCpProcess, REPO_ROOT } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';
import { PostgresServer } from '../../libs/testkit/postgres-server.ts';
import { freePort, waitForPort } from '../../libs/testkit/ports.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { propagation as propagationOver } from './ads-load.ts';
import { LeanEnvoy, type LoadClient } from './lean-envoy.ts';
import { percentile, round } from './stats.ts';
import { dataplaneBody, type Topology } from './topology.ts';

export const T: Topology = {
  proxies: Number(process.env['BENCH_SCALE_PROXIES'] ?? 10_000),
  services: Number(process.env['BENCH_SCALE_SERVICES'] ?? 1000),
  outbounds: Number(process.env['BENCH_SCALE_OUTBOUNDS'] ?? 20),
};
export const REPS = Number(process.env['BENCH_SCALE_REPS'] ?? 10);
const BURST = Math.min(1000, T.proxies);
const WINDOW = 250;
const MODE = 'delta' as const;
/** `lean` (default): LeanEnvoy on raw HTTP/2; `grpc`: FakeEnvoy on the grpc-js client, which costs the shared cores more. */
const CLIENT = process.env['BENCH_SCALE_CLIENT'] === 'grpc' ? 'grpc' : 'lean';
/** Which targets to run (comma-separated): cluster, cluster-pg (log in PostgreSQL, NATS fabric; not by default), single, floor. */
const ONLY = new Set((process.env['BENCH_SCALE_ONLY'] ?? 'cluster,single,floor').split(',').map((s) => s.trim()));
/** BENCH_SCALE_SKIP_BURST=1 leaves out the burst of 1,000 changes (its settle time is then NaN). */
const SKIP_BURST = Boolean(process.env['BENCH_SCALE_SKIP_BURST']);
/** BENCH_PROFILE_DIR=<dir> BENCH_PROFILE_PHASE=burst: CPU profiles of the cluster's projectors and gateways during the burst alone. */
const PROFILE_BURST = process.env['BENCH_PROFILE_DIR'] !== undefined && process.env['BENCH_PROFILE_PHASE'] === 'burst';
const newClient = (target: string, nodeId: string): LoadClient =>
  CLIENT === 'lean' ? new LeanEnvoy(target, nodeId) : new FakeEnvoy({ target, nodeId, mode: MODE });

export const pidOf = (cp: KumaCpProcess) => (cp as unknown as { proc: ChildProcess }).proc.pid!;
export function procStats(pid: number): { cpuSeconds: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100, rssBytes: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024 };
}
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + ' ') || line.startsWith(name + '{')) sum += Number(line.split(' ').pop());
  return sum;
}
/** Propagation over REPS changes, plus the load generator's own CPU per change (it shares the cores). */
export async function propagationWithCost(clients: LoadClient[], change: (rep: number) => Promise<void>): Promise<{ times: number[]; loadCpuSecondsPerChange: number }> {
  const c0 = process.cpuUsage();
  const times = await propagationOver(clients, REPS, change, 120_000);
  const c1 = process.cpuUsage(c0);
  return { times, loadCpuSecondsPerChange: round((c1.user + c1.system) / 1e6 / REPS, 3) };
}
/**
 * RSS per stream between half and all streams connected (per process, averaged): what each
 * further proxy costs, without the fixed growth of a process that starts serving (V8's young
 * generation growing to its maximum, code, caches), which the from-idle figure spreads over
 * the streams.
 */
export function marginalKB(half: { rssBytes: number }[], all: { rssBytes: number }[], streamsPerProcess: number): number {
  const perProcess = streamsPerProcess - Math.floor(streamsPerProcess / 2);
  return round(all.reduce((s, a, i) => s + (a.rssBytes - half[i]!.rssBytes), 0) / all.length / perProcess / 1024, 1);
}
export const summary = (ms: number[]) => ({ p50ms: round(percentile(ms, 50)), p99ms: round(percentile(ms, 99)), maxMs: round(ms[ms.length - 1]!) });
const complete = (c: LoadClient) =>
  c.names(TypeUrl.Listener).length >= 1 + T.outbounds && c.names(TypeUrl.ClusterLoadAssignment).length >= T.outbounds && c.names(TypeUrl.RouteConfiguration).length >= 1;

export async function putAll(api: string, indexes: Iterable<number>, port: (i: number) => number = () => 8080): Promise<void> {
  const dispatcher = new Agent({ connections: 32 });
  const list = [...indexes];
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let k = next++; k < list.length; k = next++) {
        const i = list[k]!;
        const res = await fetch(`${api}/meshes/default/dataplanes/dp-${i}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(dataplaneBody(T, i, port(i))), dispatcher } as RequestInit);
        await res.arrayBuffer();
        if (res.status >= 300) throw new Error(`PUT dp-${i}: ${res.status}`);
      }
    }),
  );
  await dispatcher.close();
}

/**
 * Polls `read` every 100 ms until its value has not changed for `quietMs`; resolves with the
 * time (performance.now()) of the last change. `onChange` sees each change as it is found.
 */
async function untilQuiet(read: () => number | Promise<number>, quietMs: number, onChange?: (delta: number) => void, opts: { firstChangeWithinMs?: number } = {}): Promise<number> {
  let last = await read();
  let lastChange = performance.now();
  // Quiet only counts after the first change, when one is expected (within the bound given).
  let changed = opts.firstChangeWithinMs === undefined;
  const firstBy = lastChange + (opts.firstChangeWithinMs ?? 0);
  while (!changed ? performance.now() < firstBy : performance.now() - lastChange < quietMs) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await read();
    if (now !== last) {
      onChange?.(now - last);
      [last, lastChange] = [now, performance.now()];
      changed = true;
    }
  }
  return lastChange;
}

/**
 * Seconds until the projectors have published every manifest the writes caused (their write
 * counters still for 1 s), so the initial-config figure measures serving, and this one generation.
 */
async function settled(projectors: KumaCpProcess[]): Promise<number> {
  const t0 = performance.now();
  const writes = async () => (await Promise.all(projectors.map((p) => metric(p.diagnosticsPort, 'kuma_projector_manifest_writes_total')))).reduce((a, b) => a + b, 0);
  return ((await untilQuiet(writes, 1000)) - t0) / 1000;
}

/** Quiet time before each memory sample, so the half and the full sample are taken in the same state. */
const MEMORY_SETTLE_MS = 3000;
/** Node flags for the measured servers: a full GC on SIGWINCH (test/bench/gc-on-signal.mjs) before each memory sample. */
export const GC_ARGS = ['--expose-gc', '--import', pathToFileURL(join(REPO_ROOT, 'test/bench/gc-on-signal.mjs')).href];
const collect = (pids: number[]) => pids.forEach((pid) => process.kill(pid, 'SIGWINCH'));

/**
 * Opens the streams in windows (the listen queue holds 511); resolves once every proxy has its
 * full config. `sample` is taken with half and with all streams connected, each after a pause
 * of MEMORY_SETTLE_MS (ending with a full GC of `servers`) that the initial-config time leaves out.
 */
export async function connectAll<S>(targets: string[], servers: number[], sample: () => S): Promise<{ clients: LoadClient[]; seconds: number; half: S; all: S }> {
  const clients: LoadClient[] = [];
  const t0 = performance.now();
  let paused = 0;
  const settledSample = async () => {
    const p0 = performance.now();
    await new Promise((r) => setTimeout(r, MEMORY_SETTLE_MS - 1000));
    collect(servers);
    await new Promise((r) => setTimeout(r, 1000));
    const s = sample();
    paused += performance.now() - p0;
    return s;
  };
  let half: S | undefined;
  for (let i = 0; i < T.proxies; i += WINDOW) {
    if (i === Math.floor(T.proxies / WINDOW / 2) * WINDOW) half = await settledSample();
    const batch = Array.from({ length: Math.min(WINDOW, T.proxies - i) }, (_, k) => newClient(targets[(i + k) % targets.length]!, `default.dp-${i + k}`));
    clients.push(...batch);
    await Promise.all(batch.map((c) => c.waitFor(complete, 600_000)));
    if ((i / WINDOW) % 8 === 0) process.stderr.write(`  ${clients.length}/${T.proxies} proxies configured\n`);
  }
  const seconds = (performance.now() - t0 - paused) / 1000;
  const all = await settledSample();
  return { clients, seconds, half: half ?? all, all };
}


/**
 * 1,000 endpoint changes within one second (as fast as the API takes them, if slower), then the
 * time until no proxy receives anything for 2 s; and how long the writes themselves took.
 */
async function burst(api: string, clients: LoadClient[]): Promise<{ settle: number; writes: number }> {
  const t0 = performance.now();
  const total = () => clients.reduce((n, c) => n + c.responses.length, 0);
  const per = Math.ceil(BURST / 10);
  for (let step = 0; step < 10; step++) {
    const from = step * per;
    await putAll(api, Array.from({ length: Math.min(per, BURST - from) }, (_, k) => from + k), () => 8082);
    const wait = t0 + (step + 1) * 100 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const writes = (performance.now() - t0) / 1000;
  const timeline: string[] = [`writes done ${round(writes, 1)}s`];
  const lastChange = await untilQuiet(total, 2000, (delta) => timeline.push(`${round((performance.now() - t0) / 1000, 1)}s:+${delta}`), { firstChangeWithinMs: 60_000 });
  if (process.env['BENCH_VERBOSE']) process.stderr.write(`  burst responses: ${timeline.join(' ')}\n`);
  return { settle: (lastChange - t0) / 1000, writes };
}

/** The cluster on the JetStream store, or (`postgres`) with its log in PostgreSQL and the xDS roles over a NATS fabric. */
async function benchCluster(store: 'nats' | 'postgres' = 'nats') {
  const nats = await NatsServer.start();
  const pg = store === 'postgres' ? await PostgresServer.start({ settings: ['fsync=on'] }) : undefined;
  const common = { KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none', KUMA_LOG_LEVEL: 'warn' };
  const env = pg
    ? {
        ...common,
        KUMA_STORE_TYPE: 'postgres',
        KUMA_STORE_POSTGRES_PORT: String(pg.port),
        KUMA_STORE_POSTGRES_USER: 'postgres',
        KUMA_STORE_POSTGRES_PASSWORD: '',
        KUMA_STORE_POSTGRES_DB_NAME: 'kuma',
        KUMA_FABRIC_TYPE: 'nats',
        KUMA_FABRIC_NATS_URL: nats.url,
      }
    : { ...common, KUMA_STORE_TYPE: 'nats', KUMA_STORE_NATS_URL: nats.url };
  if (pg) {
    pg.createDatabase('kuma');
    const migrated = await KumaCpProcess.command(['migrate', 'up'], env);
    if (migrated.code !== 0) throw new Error(migrated.stderr);
  }
  const api = await KumaCpProcess.start({ env, args: ['--roles', 'api'] });
  // For profiling, e.g. BENCH_SCALE_GATEWAY_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (written at the graceful stop).
  const nodeArgs = (role: string) => (process.env[`BENCH_SCALE_${role.toUpperCase()}_NODE_ARGS`] ?? '').split(' ').filter(Boolean);
  const profile = PROFILE_BURST ? ['--import', pathToFileURL(join(REPO_ROOT, 'test/bench/profile-on-signal.mjs')).href] : [];
  const projectors = await Promise.all([0, 1].map(() => KumaCpProcess.start({ env, nodeArgs: [...profile, ...nodeArgs('projector')], args: ['--roles', 'projector'] })));
  const gateways = await Promise.all([0, 1].map(() => KumaCpProcess.start({ env, nodeArgs: [...GC_ARGS, ...profile, ...nodeArgs('gateway')], args: ['--roles', 'gateway'], plaintext: true })));
  try {
    process.stderr.write(`cluster: writing ${T.proxies} dataplanes...\n`);
    await putAll(api.url, Array.from({ length: T.proxies }, (_, i) => i));
    const projectorSettleSeconds = await settled(projectors);
    process.stderr.write(`cluster: projectors settled ${round(projectorSettleSeconds)} s after the last write\n`);
    const gwBefore = gateways.map((g) => procStats(pidOf(g)));
    const { clients, seconds, half: gwHalf, all: gwAfter } = await connectAll(gateways.map((g) => `127.0.0.1:${g.dpPlaintextPort}`), gateways.map(pidOf), () => gateways.map((g) => procStats(pidOf(g))));
    if (process.env['BENCH_SCALE_HEAP_SNAPSHOT']) {
      // Gateways started with --heapsnapshot-signal=SIGUSR2 write Heap.*.heapsnapshot into the repository root.
      process.kill(pidOf(gateways[0]!), 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 20_000));
    }
    const cpu0 = projectors.reduce((s, p) => s + procStats(pidOf(p)).cpuSeconds, 0);
    const gwCpu0 = gateways.reduce((s, g) => s + procStats(pidOf(g)).cpuSeconds, 0);
    const { times, loadCpuSecondsPerChange } = await propagationWithCost(clients, (rep) => putAll(api.url, [0], () => (rep % 2 === 0 ? 8081 : 8080)));
    const cpu1 = projectors.reduce((s, p) => s + procStats(pidOf(p)).cpuSeconds, 0);
    const gwCpu1 = gateways.reduce((s, g) => s + procStats(pidOf(g)).cpuSeconds, 0);
    // Who spends the cores during the burst (the load generator is this process).
    const burstPids = { api: [pidOf(api)], projectors: projectors.map(pidOf), gateways: gateways.map(pidOf), nats: [nats.pid] };
    const cpuOf = () => Object.fromEntries(Object.entries(burstPids).map(([k, pids]) => [k, pids.reduce((s: number, pid) => s + (pid ? procStats(pid).cpuSeconds : 0), 0)]));
    const [burstCpu0, load0] = [cpuOf(), process.cpuUsage()];
    if (PROFILE_BURST) for (const pid of [...burstPids.projectors, ...burstPids.gateways]) process.kill(pid, 'SIGPWR');
    const { settle, writes: burstWrites } = SKIP_BURST ? { settle: NaN, writes: NaN } : await burst(api.url, clients);
    if (PROFILE_BURST) {
      for (const pid of [...burstPids.projectors, ...burstPids.gateways]) process.kill(pid, 'SIGPWR');
      await new Promise((r) => setTimeout(r, 3000));
    }
    const [burstCpu1, load1] = [cpuOf(), process.cpuUsage(load0)];
    const burstCpuSeconds = { ...Object.fromEntries(Object.keys(burstCpu0).map((k) => [k, round(burstCpu1[k]! - burstCpu0[k]!, 2)])), load: round((load1.user + load1.system) / 1e6, 2) };
    const hits = await Promise.all(gateways.map((g) => metric(g.diagnosticsPort, 'kuma_xds_content_lookups_total{outcome="hit"}')));
    const misses = await Promise.all(gateways.map((g) => metric(g.diagnosticsPort, 'kuma_xds_content_lookups_total{outcome="miss"}')));
    const writes = await Promise.all(projectors.map((p) => metric(p.diagnosticsPort, 'kuma_projector_manifest_writes_total{outcome="written"}')));
    for (const c of clients) c.close();
    const streamsPerGateway = T.proxies / gateways.length;
    return {
      server: pg ? 'cluster on postgres, NATS fabric (2 projectors, 2 gateways)' : 'cluster (2 projectors, 2 gateways)',
      initialConfigSeconds: round(seconds),
      propagation: summary(times),
      loadCpuSecondsPerChange,
      burstSettleSeconds: round(settle),
      burstWritesSeconds: round(burstWrites),
      burstCpuSeconds,
      gatewayRssPerStreamKB: round(gwAfter.reduce((s, a, i) => s + (a.rssBytes - gwBefore[i]!.rssBytes), 0) / gateways.length / streamsPerGateway / 1024, 1),
      gatewayMarginalRssPerStreamKB: marginalKB(gwHalf, gwAfter, streamsPerGateway),
      gatewayRssMB: gwAfter.map((a) => round(a.rssBytes / 2 ** 20)),
      projectorSettleSeconds: round(projectorSettleSeconds),
      projectorCpuSecondsPerChange: round((cpu1 - cpu0) / REPS, 3),
      gatewayCpuSecondsPerChange: round((gwCpu1 - gwCpu0) / REPS, 3),
      contentCacheHitRate: round(hits.reduce((a, b) => a + b, 0) / Math.max(1, hits.reduce((a, b) => a + b, 0) + misses.reduce((a, b) => a + b, 0)), 3),
      manifestWrites: writes.reduce((a, b) => a + b, 0),
    };
  } catch (err) {
    for (const [i, g] of gateways.entries()) {
      const m = await Promise.all(['kuma_xds_streams', 'kuma_xds_delayed_pushes_total', 'kuma_xds_responses_sent_total', 'kuma_xds_stale_manifests_total'].map(async (n) => `${n}=${await metric(g.diagnosticsPort, n)}`));
      process.stderr.write(`gateway ${i}: ${m.join(' ')}\n`);
    }
    throw err;
  } finally {
    await Promise.all([...projectors, ...gateways].map((p) => p.stop('SIGTERM')));
    await Promise.all([api, ...projectors, ...gateways].map((p) => p.destroy()));
    await nats.stop();
    await pg?.stop();
  }
}

async function benchSingle() {
  const cp = await KumaCpProcess.start({ plaintext: true, nodeArgs: GC_ARGS, env: { KUMA_STORE_TYPE: 'memory', KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none', KUMA_LOG_LEVEL: 'warn' } });
  try {
    process.stderr.write(`single process: writing ${T.proxies} dataplanes...\n`);
    await putAll(cp.url, Array.from({ length: T.proxies }, (_, i) => i));
    const before = procStats(pidOf(cp));
    const { clients, seconds, half, all: after } = await connectAll([`127.0.0.1:${cp.dpPlaintextPort}`], [pidOf(cp)], () => procStats(pidOf(cp)));
    const cpu0 = procStats(pidOf(cp)).cpuSeconds;
    const { times, loadCpuSecondsPerChange } = await propagationWithCost(clients, (rep) => putAll(cp.url, [0], () => (rep % 2 === 0 ? 8081 : 8080)));
    const cpu1 = procStats(pidOf(cp)).cpuSeconds;
    const { settle, writes: burstWrites } = SKIP_BURST ? { settle: NaN, writes: NaN } : await burst(cp.url, clients);
    for (const c of clients) c.close();
    return {
      server: 'single process',
      initialConfigSeconds: round(seconds),
      propagation: summary(times),
      loadCpuSecondsPerChange,
      burstSettleSeconds: round(settle),
      burstWritesSeconds: round(burstWrites),
      rssPerStreamKB: round((after.rssBytes - before.rssBytes) / T.proxies / 1024, 1),
      marginalRssPerStreamKB: marginalKB([half], [after], T.proxies),
      cpuSecondsPerChange: round((cpu1 - cpu0) / REPS, 3),
    };
  } finally {
    await cp.destroy();
  }
}

export async function benchFloor() {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const p = spawn(process.execPath, [...GC_ARGS, '--import', 'tsx', join(REPO_ROOT, 'test/bench/floor-server.ts'), String(grpcPort), String(httpPort), String(T.proxies), String(T.services), String(T.outbounds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    process.stderr.write('floor: encoding...\n');
    await waitForPort(httpPort, 600_000);
    const before = procStats(p.pid!);
    const { clients, seconds, half, all: after } = await connectAll([`127.0.0.1:${grpcPort}`], [p.pid!], () => procStats(p.pid!));
    const { times, loadCpuSecondsPerChange } = await propagationWithCost(clients, async () => void (await (await fetch(`http://127.0.0.1:${httpPort}/change`, { method: 'POST' })).text()));
    for (const c of clients) c.close();
    return { server: 'floor', initialConfigSeconds: round(seconds), propagation: summary(times), loadCpuSecondsPerChange, rssPerStreamKB: round((after.rssBytes - before.rssBytes) / T.proxies / 1024, 1), marginalRssPerStreamKB: marginalKB([half], [after], T.proxies) };
  } finally {
    p.kill('SIGKILL');
  }
}

export async function run(): Promise<unknown> {
  const cluster = ONLY.has('cluster') ? await benchCluster() : undefined;
  const clusterPostgres = ONLY.has('cluster-pg') ? await benchCluster('postgres') : undefined;
  const single = ONLY.has('single') ? await benchSingle() : undefined;
  const floor = ONLY.has('floor') ? await benchFloor() : undefined;
  const rows = [cluster, clusterPostgres, single, floor].filter((r) => r !== undefined);
  const vsFloor = (x: number, f: number | undefined) => (f ? round(x / f) : '-');
  console.table(
    rows.map((r) => ({
      server: r.server,
      'initial s': r.initialConfigSeconds,
      'p50 ms': r.propagation.p50ms,
      'p99 ms': r.propagation.p99ms,
      'max ms': r.propagation.maxMs,
      'burst settle s': 'burstSettleSeconds' in r ? r.burstSettleSeconds : '-',
      'burst writes s': 'burstWritesSeconds' in r ? r.burstWritesSeconds : '-',
      'p99/floor': vsFloor(r.propagation.p99ms, floor?.propagation.p99ms),
      'initial/floor': vsFloor(r.initialConfigSeconds, floor?.initialConfigSeconds),
      'load CPU s/change': r.loadCpuSecondsPerChange,
    })),
  );
  console.log({
    client: CLIENT,
    gatewayRssPerStreamKB: cluster?.gatewayRssPerStreamKB,
    singleProcessRssPerStreamKB: single?.rssPerStreamKB,
    floorRssPerStreamKB: floor?.rssPerStreamKB,
    gatewayMarginalRssPerStreamKB: cluster?.gatewayMarginalRssPerStreamKB,
    singleProcessMarginalRssPerStreamKB: single?.marginalRssPerStreamKB,
    floorMarginalRssPerStreamKB: floor?.marginalRssPerStreamKB,
    projectorCpuSecondsPerChange: cluster?.projectorCpuSecondsPerChange,
    gatewayCpuSecondsPerChange: cluster?.gatewayCpuSecondsPerChange,
    singleProcessCpuSecondsPerChange: single?.cpuSecondsPerChange,
    projectorSettleSeconds: cluster?.projectorSettleSeconds,
    contentCacheHitRate: cluster?.contentCacheHitRate,
  });
  return { topology: T, repetitions: REPS, mode: MODE, client: CLIENT, cluster, clusterPostgres, single, floor };
}
