/**
 * xDS benchmark (issue 3): simulated Envoy ADS streams (FakeEnvoy) against one kuma-cp and
 * against the floor server (pre-encoded responses only), in the same run.
 * Reports: time until every proxy has its full initial config; propagation of one endpoint
 * change of svc-0 (which every proxy calls) to all proxies, p50/p99/max over repetitions;
 * kuma-cp CPU and peak RSS, memory per connected proxy; bytes per push.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { KumaCpProcess, REPO_ROOT } from '../../libs/testkit/kuma-cp.ts';
import { freePort, waitForPort } from '../../libs/testkit/ports.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { propagation as propagationOver } from './ads-load.ts';
import { percentile, round } from './stats.ts';
import { dataplaneBody, type Topology } from './topology.ts';

const T: Topology = {
  proxies: Number(process.env['BENCH_PROXIES'] ?? 1000),
  services: Number(process.env['BENCH_SERVICES'] ?? 50),
  outbounds: Number(process.env['BENCH_OUTBOUNDS'] ?? 5),
  // Transparent proxies (every proxy gets every service) unless BENCH_TRANSPARENT=0 (explicit outbounds).
  transparent: process.env['BENCH_TRANSPARENT'] !== '0',
};
const REPS = Number(process.env['BENCH_REPS'] ?? 5);
const WINDOW = 100;

function procStats(pid: number): { cpuSeconds: number; rssBytes: number; peakRssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { cpuSeconds: ticks / 100, rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + ' ') || line.startsWith(name + '{')) sum += Number(line.split(' ').pop());
  return sum;
}

/** Services each proxy is configured for: all of them with transparent proxying, else its outbounds. */
const perProxy = T.transparent ? T.services : T.outbounds;
const complete = (c: FakeEnvoy) =>
  c.names(TypeUrl.Listener).length >= 1 + perProxy && c.names(TypeUrl.ClusterLoadAssignment).length >= perProxy && c.names(TypeUrl.RouteConfiguration).length >= 1;

/** Opens `T.proxies` streams in windows (the listen queue holds 511), resolves when all are complete. */
async function connectAll(target: string, mode: 'sotw' | 'delta'): Promise<{ clients: FakeEnvoy[]; seconds: number }> {
  const clients: FakeEnvoy[] = [];
  const t0 = performance.now();
  for (let i = 0; i < T.proxies; i += WINDOW) {
    const batch = Array.from({ length: Math.min(WINDOW, T.proxies - i) }, (_, k) => new FakeEnvoy({ target, nodeId: `default.dp-${i + k}`, mode }));
    clients.push(...batch);
    await Promise.all(batch.map((c) => c.waitFor(complete, 120_000)));
  }
  return { clients, seconds: (performance.now() - t0) / 1000 };
}


const summary = (ms: number[]) => ({ p50ms: round(percentile(ms, 50)), p99ms: round(percentile(ms, 99)), maxMs: round(ms[ms.length - 1]!) });

async function benchKumaCp(mode: 'sotw' | 'delta') {
  const cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'memory', KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none', KUMA_LOG_LEVEL: 'warn' } });
  const pid = Number(/"pid":(\d+)/.exec(cp.output)?.[1] ?? 0) || cpPid(cp);
  const dispatcher = new Agent({ connections: 32 });
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < T.proxies; i = next++) {
        const res = await fetch(`${cp.url}/meshes/default/dataplanes/dp-${i}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(dataplaneBody(T, i)), dispatcher } as RequestInit);
        await res.arrayBuffer();
      }
    }),
  );
  const before = procStats(pid);
  const { clients, seconds } = await connectAll(`127.0.0.1:${cp.dpPlaintextPort}`, mode);
  const connected = procStats(pid);
  const [bytes0, pushes0] = [await metric(cp.diagnosticsPort, 'kuma_xds_response_bytes_total'), await metric(cp.diagnosticsPort, 'kuma_xds_responses_sent_total')];
  const cpu0 = procStats(pid).cpuSeconds;
  const times = await propagationOver(clients, REPS, async (rep) => {
    const res = await fetch(`${cp.url}/meshes/default/dataplanes/dp-0`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(dataplaneBody(T, 0, rep % 2 === 0 ? 8081 : 8080)) });
    await res.arrayBuffer();
  });
  const after = procStats(pid);
  const [bytes1, pushes1] = [await metric(cp.diagnosticsPort, 'kuma_xds_response_bytes_total'), await metric(cp.diagnosticsPort, 'kuma_xds_responses_sent_total')];
  for (const c of clients) c.close();
  await dispatcher.close();
  await cp.destroy();
  return {
    server: 'kuma-cp',
    mode,
    proxies: T.proxies,
    initialConfigSeconds: round(seconds),
    propagation: summary(times),
    cpuSecondsPerChange: round((after.cpuSeconds - cpu0) / REPS, 3),
    peakRssMB: round(after.peakRssBytes / 2 ** 20, 1),
    rssPerProxyKB: round((connected.rssBytes - before.rssBytes) / T.proxies / 1024, 1),
    bytesPerPushDuringChanges: round((bytes1 - bytes0) / Math.max(1, pushes1 - pushes0), 0),
    pushesPerChange: round((pushes1 - pushes0) / REPS, 0),
  };
}

function cpPid(cp: KumaCpProcess): number {
  return (cp as unknown as { proc: ChildProcess }).proc.pid!;
}

async function benchFloor(mode: 'sotw' | 'delta') {
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const p = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(REPO_ROOT, 'test/bench/floor-server.ts'), String(grpcPort), String(httpPort), String(T.proxies), String(T.services), String(T.outbounds), T.transparent ? '1' : '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await waitForPort(httpPort, 120_000);
  const { clients, seconds } = await connectAll(`127.0.0.1:${grpcPort}`, mode);
  const times = await propagationOver(clients, REPS, async () => void (await (await fetch(`http://127.0.0.1:${httpPort}/change`, { method: 'POST' })).text()));
  const stats = (await (await fetch(`http://127.0.0.1:${httpPort}/stats`)).json()) as { bytes: number; pushes: number };
  for (const c of clients) c.close();
  p.kill('SIGKILL');
  return { server: 'floor', mode, proxies: T.proxies, initialConfigSeconds: round(seconds), propagation: summary(times), bytesPerPushDuringChanges: round(stats.bytes / Math.max(1, stats.pushes), 0) };
}

export async function run(): Promise<unknown> {
  const rows = [];
  for (const mode of ['sotw', 'delta'] as const) {
    process.stderr.write(`kuma-cp ${mode}...\n`);
    const k = await benchKumaCp(mode);
    process.stderr.write(`floor ${mode}...\n`);
    const f = await benchFloor(mode);
    rows.push({
      ...k,
      floor: f,
      ratioInitialToFloor: round(k.initialConfigSeconds / f.initialConfigSeconds),
      ratioP99ToFloor: round(k.propagation.p99ms / f.propagation.p99ms),
      ratioBytesPerPushToFloor: round(k.bytesPerPushDuringChanges / f.bytesPerPushDuringChanges),
    });
  }
  console.table(
    rows.map((r) => ({
      mode: r.mode,
      proxies: r.proxies,
      'initial s': r.initialConfigSeconds,
      'floor initial s': r.floor.initialConfigSeconds,
      'p50 ms': r.propagation.p50ms,
      'p99 ms': r.propagation.p99ms,
      'max ms': r.propagation.maxMs,
      'floor p99 ms': r.floor.propagation.p99ms,
      'p99/floor': r.ratioP99ToFloor,
      'init/floor': r.ratioInitialToFloor,
      'peak RSS MB': r.peakRssMB,
      'KB/proxy': r.rssPerProxyKB,
      'cpu s/change': r.cpuSecondsPerChange,
      'bytes/push': r.bytesPerPushDuringChanges,
      'floor bytes/push': r.floor.bytesPerPushDuringChanges,
      'bytes/floor': r.ratioBytesPerPushToFloor,
    })),
  );
  return { topology: T, repetitions: REPS, rows };
}
