/**
 * Trimming by permission (issue 12, Kuma's KUMA_EXPERIMENTAL_AUTO_REACHABLE_SERVICES), in process:
 * the projector alone feeding a SnapshotCache, as `kuma-cp run` does. BENCH_REACHABLE_PROXIES
 * (10,000) transparent proxies over BENCH_REACHABLE_SERVICES (1,000) services, the mesh's mTLS on,
 * and one MeshTrafficPermission per service allowing the BENCH_REACHABLE_CALLERS (20) services
 * after it.
 * - With trimming, every proxy watched: CPU of the cold generation, the configuration per proxy
 *   (resources, encoded bytes: p50 and mean), then CPU and proxies pushed for (1) one service's
 *   permission gaining a caller (its 10 proxies' outbounds change) and (2) a mesh-wide permission
 *   that changes every service's rules but nobody's reachable services (every proxy's RBAC moves).
 * - Without trimming, the same mesh, but only the first BENCH_REACHABLE_SAMPLE (100) proxies
 *   watched (a proxy's configuration does not depend on how many are watched, and all 10,000 with
 *   every service each would take the projector minutes): the configuration per proxy, against the
 *   same sample with trimming.
 */
import { ReachableServices } from '../../libs/policies/meshtrafficpermission/index.ts';
import { policyProjector } from '../../services/projector/in-process.ts';
import { cpuMsSince, percentile, round } from './stats.ts';
import { dataplaneBody, type Topology } from './topology.ts';

const T: Topology = {
  proxies: Number(process.env['BENCH_REACHABLE_PROXIES'] ?? 10_000),
  services: Number(process.env['BENCH_REACHABLE_SERVICES'] ?? 1000),
  outbounds: 0,
  transparent: true,
};
const CALLERS = Number(process.env['BENCH_REACHABLE_CALLERS'] ?? 20);
const SAMPLE = Math.min(T.proxies, Number(process.env['BENCH_REACHABLE_SAMPLE'] ?? 100));


/** svc-s may be called by the CALLERS services after it. */
const permission = (s: number, extra: number[] = []) => ({
  targetRef: { kind: 'MeshService', name: `svc-${s}` },
  from: [...Array.from({ length: CALLERS }, (_, k) => (s + 1 + k) % T.services), ...extra].map((c) => ({ targetRef: { kind: 'MeshService', name: `svc-${c}` }, default: { action: 'Allow' } })),
});

async function generate(trim: boolean, watched: number) {
  let pushes = 0;
  const { cache, gen, apply } = policyProjector(trim ? { outboundTrim: new ReachableServices() } : {});
  // The generator flushes after its debounce, in slices: settled when it is idle.
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 1));
    await gen.idle();
  };
  apply('Mesh', undefined, 'default', { mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } });
  for (let s = 0; s < T.services; s++) apply('MeshTrafficPermission', 'default', `svc-${s}`, permission(s));
  for (let i = 0; i < T.proxies; i++) {
    const body = dataplaneBody(T, i) as { name: string; networking: unknown };
    apply('Dataplane', 'default', body.name, { networking: body.networking });
  }
  process.stderr.write(`reachable: generating ${watched} of ${T.proxies} proxies ${trim ? 'with' : 'without'} trimming...\n`);
  let start = process.cpuUsage();
  for (let i = 0; i < watched; i++) cache.watch(`default.dp-${i}`, () => pushes++);
  const coldCpuMs = cpuMsSince(start);

  const sizes = (n: number) => {
  const bytes: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    let b = 0;
    let c = 0;
    for (const byName of cache.get(`default.dp-${i}`)?.resources.values() ?? []) {
      for (const r of byName.values()) {
        b += r.bytes.length;
        c++;
      }
    }
    bytes.push(b);
    counts.push(c);
  }
  bytes.sort((a, b) => a - b);
  counts.sort((a, b) => a - b);
  return { proxies: n, resourcesP50: percentile(counts, 50), bytesP50: percentile(bytes, 50), bytesMean: Math.round(bytes.reduce((a, b) => a + b, 0) / bytes.length) };
  };
  const perProxy = sizes(watched);
  const sample = sizes(SAMPLE);

  let changes: Record<string, unknown> | undefined;
  if (trim) {
    const before = pushes;
    start = process.cpuUsage();
    apply('MeshTrafficPermission', 'default', 'svc-0', permission(0, [500]));
    await settle();
    const oneCpu = cpuMsSince(start);
    const onePushes = pushes - before;
    // A mesh-wide permission denying svc-1 everywhere: the per-service permissions are more
    // specific and still allow it where they did, so no proxy's reachable services move, but
    // every service's rules (and every proxy's RBAC) do.
    const mark = pushes;
    start = process.cpuUsage();
    apply('MeshTrafficPermission', 'default', 'deny-svc-1', { targetRef: { kind: 'Mesh' }, from: [{ targetRef: { kind: 'MeshService', name: 'svc-1' }, default: { action: 'Deny' } }] });
    await settle();
    const meshWideCpu = cpuMsSince(start);
    changes = { oneServiceGainsACaller: { cpuMs: round(oneCpu), proxiesPushed: onePushes }, meshWideRulesNoReachabilityChange: { cpuMs: round(meshWideCpu), proxiesPushed: pushes - mark } };
  }
  gen.stop();
  return { coldGenerationCpuMs: round(coldCpuMs), perProxy, sample, ...(changes ? { changes } : {}) };
}

export async function run(): Promise<unknown> {
  const trimmed = await generate(true, T.proxies);
  console.log('with trimming:', trimmed);
  globalThis.gc?.();
  const full = await generate(false, SAMPLE);
  console.log('without trimming:', full);
  const ratio = { bytesP50: round(trimmed.sample.bytesP50 / full.sample.bytesP50, 4), resourcesP50: round(trimmed.sample.resourcesP50 / full.sample.resourcesP50, 4) };
  console.log(`trimmed / full, over the same ${SAMPLE} proxies:`, ratio);
  return { topology: T, callersPerService: CALLERS, trimmed, full, ratio };
}
