/**
 * mTLS benchmark (issue 12), against one real kuma-cp process (memory store, dataplane tokens on):
 * 1. issuing workload certificates to BENCH_MTLS_PROXIES (10,000) proxies that ask at once,
 *    BENCH_MTLS_WINDOW (250) requests in flight (as the xDS benchmark opens streams), each with
 *    its own key and CSR made beforehand (kuma-dp makes them on its own host) and its own
 *    dataplane token: wall time, and the control plane's CPU per certificate;
 * 2. the spread of the renewals those certificates ask for (`renewAfter`): the busiest minute's
 *    share of all proxies (target: at most 5%);
 * 3. the same issuance for 500 RSA-2048 workload keys (`BENCH_MTLS_RSA=0` skips it), as a ratio.
 * Figures are printed and saved, never asserted.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { createWorkloadCsr, type KeyAlgorithm } from '../../libs/ca/builtin-ca.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { pidOf, procStats } from './scale.ts';
import { percentile, round } from './stats.ts';

const PROXIES = Number(process.env['BENCH_MTLS_PROXIES'] ?? 10_000);
const WINDOW = Number(process.env['BENCH_MTLS_WINDOW'] ?? 250);
const RSA = process.env['BENCH_MTLS_RSA'] !== '0';

const dataplane = (i: number) =>
  JSON.stringify({ type: 'Dataplane', mesh: 'default', name: `dp-${i}`, networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': `svc-${i % 1000}`, version: 'v1' } }] } });

async function issueAll(cp: KumaCpProcess, algorithm: KeyAlgorithm, n: number) {
  process.stderr.write(`mtls: making ${n} keys and CSRs (${typeof algorithm === 'string' ? algorithm : `rsa-${algorithm.rsaBits}`}) and tokens...\n`);
  const csrs: string[] = [];
  for (let i = 0; i < n; i++) csrs.push((await createWorkloadCsr([`spiffe://default/svc-${i % 1000}`], algorithm)).csrPem);
  const token = (await http(cp.url, 'POST', '/tokens/dataplane', { mesh: 'default' })).body as string;
  const ca = readFileSync(cp.caCertFile, 'utf8');
  const dispatcher = new Agent({ connections: WINDOW, connect: { ca, timeout: 60_000 } });
  const url = `https://localhost:${cp.dpPort}/certificates`;
  const latencies: number[] = [];
  const renewals: number[] = [];
  let failures = 0;
  let next = 0;
  const cpu0 = procStats(pidOf(cp)).cpuSeconds;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        const res = await request(url, {
          dispatcher,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ mesh: 'default', name: `dp-${i}`, dataplaneToken: token, dataplaneResource: dataplane(i), csr: csrs[i] }),
        });
        const body = (await res.body.json()) as { renewAfter?: string };
        latencies.push(performance.now() - t);
        if (res.statusCode !== 200 || !body.renewAfter) failures++;
        else renewals.push(new Date(body.renewAfter).getTime());
        if ((i + 1) % 2000 === 0) process.stderr.write(`  ${i + 1}/${n} certificates\n`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = procStats(pidOf(cp)).cpuSeconds - cpu0;
  await dispatcher.close();
  latencies.sort((a, b) => a - b);
  // Renewals per minute: the busiest minute, as a share of all proxies.
  const perMinute = new Map<number, number>();
  for (const r of renewals) perMinute.set(Math.floor(r / 60_000), (perMinute.get(Math.floor(r / 60_000)) ?? 0) + 1);
  const busiest = Math.max(0, ...perMinute.values());
  const span = renewals.length ? (Math.max(...renewals) - Math.min(...renewals)) / 60_000 : 0;
  return {
    proxies: n,
    failures,
    seconds: round(seconds),
    certificatesPerSecond: round(n / seconds),
    cpuMsPerCertificate: round((cpuSeconds * 1000) / n, 3),
    latency: { p50ms: round(percentile(latencies, 50)), p99ms: round(percentile(latencies, 99)) },
    renewals: { spanMinutes: round(span), busiestMinute: busiest, busiestMinuteShare: round(busiest / Math.max(1, renewals.length), 4) },
  };
}

export async function run(): Promise<unknown> {
  // Every benchmark proxy connects from 127.0.0.1: the per-source bound on connections that have
  // not authenticated yet (32, for a real host's proxies) would refuse the window.
  const cp = await KumaCpProcess.start({
    env: { KUMA_STORE_TYPE: 'memory', KUMA_LOG_LEVEL: 'warn', KUMA_DP_SERVER_MAX_UNAUTHENTICATED_CONNECTIONS_PER_SOURCE: String(WINDOW * 2) },
    // BENCH_MTLS_CPU_PROF=<dir>: a CPU profile of the control plane (written when it stops).
    ...(process.env['BENCH_MTLS_CPU_PROF'] ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_MTLS_CPU_PROF']}`] } : {}),
  });
  try {
    const put = await http(cp.url, 'PUT', '/meshes/default', { type: 'Mesh', name: 'default', mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } });
    if (put.status !== 200) throw new Error(`could not enable mTLS: ${JSON.stringify(put.body)}`);
    const ecdsa = await issueAll(cp, 'ecdsa-p256', PROXIES);
    console.log('ECDSA P-256 workload keys:', ecdsa);
    const rsa = RSA ? await issueAll(cp, { rsaBits: 2048 }, Math.min(PROXIES, 500)) : undefined;
    if (rsa) console.log('RSA-2048 workload keys:', rsa, { cpuPerCertificateRsaOverEcdsa: round(rsa.cpuMsPerCertificate / ecdsa.cpuMsPerCertificate) });
    return { window: WINDOW, ecdsa, rsa };
  } finally {
    if (process.env['BENCH_MTLS_CPU_PROF']) await cp.stop('SIGTERM');
    await cp.destroy();
  }
}
