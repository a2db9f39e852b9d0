/**
 * Policies benchmark (issue 11): the scale topology (BENCH_SCALE_PROXIES 10,000 proxies over 1,000
 * services, 20 outbounds each) with Kuma's per-mesh default policies plus 20 policies of mixed
 * kinds targeting subsets (POLICIES below), against a single kuma-cp process (all roles, memory
 * store) and the floor server, in one run:
 * 1. propagation of one svc-0 endpoint change (p50/p99 over BENCH_SCALE_REPS), vs the floor, with the
 *    policies and (same process, before they are written) without;
 * 2. a mesh-wide MeshTimeout change (the default `mesh-timeout-all-default`'s request timeout)
 *    until every proxy received its new routes: p99 against the endpoint change's;
 * 3. the process's CPU per policy change;
 * 4. memory per stream, with the policies and without any (the same process before they are written);
 * and, in process (the projector alone, as `translate`): CPU per policy change and the number of
 * distinct Cluster and RouteConfiguration contents over all proxies, which the cost must follow.
 * 5. with `mtp` (and `serve`): the mesh's mTLS turned on, then a mesh-wide MeshTrafficPermission
 *    change until every proxy received its listeners, against the endpoint change.
 * Parts: BENCH_POLICIES_ONLY=inprocess,serve,floor,mtp.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultPoliciesFor } from '../../libs/policies/defaults.ts';
import { policyPlugins } from '../../libs/policies/plugins.ts';
import { POLICY_TYPES } from '../../libs/policies/register.ts';
import { KumaCpProcess, REPO_ROOT } from '../../libs/testkit/kuma-cp.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { policyProjector } from '../../services/projector/in-process.ts';
import type { LoadClient } from './lean-envoy.ts';
import { benchFloor, connectAll, GC_ARGS, marginalKB, pidOf, procStats, propagationWithCost, putAll, REPS, summary, T } from './scale.ts';
import { cpuMsSince, median, percentile, round } from './stats.ts';
import { dataplaneBody } from './topology.ts';

const ONLY = new Set((process.env['BENCH_POLICIES_ONLY'] ?? 'inprocess,serve,floor,mtp').split(',').map((s) => s.trim()));
/**
 * BENCH_PROFILE_DIR=<dir> BENCH_PROFILE_PHASE=endpoint|meshtimeout|mtp: a CPU profile of the
 * served control plane during that phase alone (test/bench/profile-on-signal.mjs).
 */
const PROFILE_DIR = process.env['BENCH_PROFILE_DIR'];
const PROFILE_PHASE = process.env['BENCH_PROFILE_PHASE'];
const PROFILE_ARGS = PROFILE_DIR ? ['--import', pathToFileURL(join(REPO_ROOT, 'test/bench/profile-on-signal.mjs')).href] : [];
/** Runs `phase`, profiled when it is BENCH_PROFILE_PHASE. */
async function profiled<R>(pid: number, name: string, phase: () => Promise<R>): Promise<R> {
  const on = PROFILE_DIR !== undefined && PROFILE_PHASE === name;
  if (on) process.kill(pid, 'SIGPWR');
  try {
    return await phase();
  } finally {
    if (on) {
      process.kill(pid, 'SIGPWR');
      await new Promise((r) => setTimeout(r, 2000));
      process.stderr.write(`policies: ${name} profiled into ${PROFILE_DIR}\n`);
    }
  }
}

/** 20 policies of mixed kinds, each selecting the 10 proxies of one service (or configuring traffic to one). */
export function benchPolicies(): { type: string; plural: string; name: string; spec: Record<string, unknown> }[] {
  return Array.from({ length: 20 }, (_, k) => {
    const svc = `svc-${k + 1}`;
    switch (k % 5) {
      case 0:
        return { type: 'MeshTimeout', plural: 'meshtimeouts', name: `bench-mt-${k}`, spec: { targetRef: { kind: 'MeshService', name: svc }, to: [{ targetRef: { kind: 'MeshService', name: 'svc-0' }, default: { http: { requestTimeout: '3s' } } }] } };
      case 1:
        return { type: 'MeshRetry', plural: 'meshretries', name: `bench-mr-${k}`, spec: { targetRef: { kind: 'MeshSubset', tags: { 'kuma.io/service': svc } }, to: [{ targetRef: { kind: 'Mesh' }, default: { http: { numRetries: 2 } } }] } };
      case 2:
        return { type: 'MeshCircuitBreaker', plural: 'meshcircuitbreakers', name: `bench-mcb-${k}`, spec: { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'MeshService', name: svc }, default: { outlierDetection: { detectors: { totalFailures: { consecutive: 7 } } } } }] } };
      case 3:
        return { type: 'MeshHealthCheck', plural: 'meshhealthchecks', name: `bench-mhc-${k}`, spec: { targetRef: { kind: 'MeshService', name: svc }, to: [{ targetRef: { kind: 'Mesh' }, default: { interval: '10s', timeout: '2s', unhealthyThreshold: 3, healthyThreshold: 1, tcp: {} } }] } };
      default:
        return { type: 'MeshLoadBalancingStrategy', plural: 'meshloadbalancingstrategies', name: `bench-mlbs-${k}`, spec: { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'MeshService', name: svc }, default: { loadBalancer: { type: 'LeastRequest' } } }] } };
    }
  });
}

/** The default MeshTimeout with another request timeout for traffic to every service. */
function meshTimeout(requestTimeout: string): Record<string, unknown> {
  const d = defaultPoliciesFor('default', {}).find((p) => p.name === 'mesh-timeout-all-default')!;
  const spec = structuredClone(d.spec) as { to: { default: { http: { requestTimeout: string } } }[] };
  spec.to[0]!.default.http.requestTimeout = requestTimeout;
  return spec;
}

// ---- in process: the projector alone -------------------------------------------------------

async function inProcess() {
  const { cache, gen, apply } = policyProjector();
  // The generator flushes after its debounce, in slices: settled when it is idle.
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 1));
    await gen.idle();
  };
  apply('Mesh', undefined, 'default', {});
  for (const p of defaultPoliciesFor('default', {})) apply(p.type, 'default', p.name, p.spec as Record<string, unknown>);
  for (const p of benchPolicies()) apply(p.type, 'default', p.name, p.spec);
  for (let i = 0; i < T.proxies; i++) {
    const body = dataplaneBody(T, i) as { name: string; networking: unknown };
    apply('Dataplane', 'default', body.name, { networking: body.networking });
  }
  let start = process.cpuUsage();
  for (let i = 0; i < T.proxies; i++) cache.watch(`default.dp-${i}`, () => undefined);
  const coldCpuMs = cpuMsSince(start);
  const distinct = () => {
    const clusters = new Set<string>();
    const routes = new Set<string>();
    for (let i = 0; i < T.proxies; i++) {
      const s = cache.get(`default.dp-${i}`);
      for (const r of s?.resources.get(TypeUrl.Cluster)?.values() ?? []) clusters.add(r.hash);
      for (const r of s?.resources.get(TypeUrl.RouteConfiguration)?.values() ?? []) routes.add(r.hash);
    }
    return { clusters: clusters.size, routes: routes.size };
  };
  const before = distinct();
  const policyChange: number[] = [];
  const oneService: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    start = process.cpuUsage();
    apply('MeshTimeout', 'default', 'mesh-timeout-all-default', meshTimeout(rep % 2 === 0 ? '16s' : '15s'));
    await settle();
    policyChange.push(cpuMsSince(start));
    const p = benchPolicies()[0]!;
    start = process.cpuUsage();
    apply(p.type, 'default', p.name, { ...p.spec, to: [{ targetRef: { kind: 'MeshService', name: 'svc-0' }, default: { http: { requestTimeout: `${4 + rep}s` } } }] });
    await settle();
    oneService.push(cpuMsSince(start));
  }
  // An endpoint change of svc-0 (every proxy's outbound) with the policies in place: one new
  // ClusterLoadAssignment per slot, as without policies.
  const endpoint: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const body = dataplaneBody(T, T.proxies + rep * T.services, 9000 + rep) as { name: string; networking: unknown };
    start = process.cpuUsage();
    apply('Dataplane', 'default', body.name, { networking: body.networking });
    await settle();
    endpoint.push(cpuMsSince(start));
  }
  gen.stop();
  return {
    plugins: policyPlugins().map((p) => p.name),
    coldGenerationCpuMs: round(coldCpuMs),
    meshWidePolicyChangeCpuMs: round(median(policyChange)),
    tenProxyPolicyChangeCpuMs: round(median(oneService)),
    endpointChangeCpuMs: round(median(endpoint)),
    distinctClusters: before.clusters,
    distinctRouteConfigurations: before.routes,
  };
}

// ---- served: a single kuma-cp and real streams ----------------------------------------------

/** Milliseconds from each change until each proxy received a response of `typeUrl` (sorted). */
async function propagationOfType(clients: LoadClient[], reps: number, typeUrl: string, change: (rep: number) => Promise<void>): Promise<number[]> {
  const all: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const marks = clients.map((c) => c.responses.length);
    const t0 = performance.now();
    await change(rep);
    const times = await Promise.all(
      clients.map(async (c, i) => {
        let at = 0;
        await c.waitFor(() => {
          const r = c.responses.slice(marks[i]).find((x) => x.typeUrl === typeUrl);
          at = r?.at ?? 0;
          return r !== undefined;
        }, 120_000);
        return at - t0;
      }),
    );
    all.push(...times);
    await new Promise((r) => setTimeout(r, 500));
  }
  return all.sort((a, b) => a - b);
}

async function put(api: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${api}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

async function served() {
  const cp = await KumaCpProcess.start({
    plaintext: true,
    nodeArgs: [...GC_ARGS, ...PROFILE_ARGS],
    env: { KUMA_STORE_TYPE: 'memory', KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none', KUMA_LOG_LEVEL: 'warn', ...(PROFILE_DIR ? { BENCH_PROFILE_DIR: PROFILE_DIR } : {}) },
  });
  try {
    // Memory per stream without policies first: the default Mesh's defaults are removed, then written back.
    const defaults = defaultPoliciesFor('default', {});
    const plural = (type: string) => POLICY_TYPES.find((d) => d.name === type)!.plural;
    for (const p of defaults) await fetch(`${cp.url}/meshes/default/${plural(p.type)}/${p.name}`, { method: 'DELETE' });
    process.stderr.write(`policies: writing ${T.proxies} dataplanes...\n`);
    await putAll(cp.url, Array.from({ length: T.proxies }, (_, i) => i));
    const bare = await connectAll([`127.0.0.1:${cp.dpPlaintextPort}`], [pidOf(cp)], () => procStats(pidOf(cp)));
    // The same endpoint change without policies, in this run: what the policies add to it.
    const bareEndpoint = await propagationWithCost(bare.clients, (rep) => putAll(cp.url, [0], () => (rep % 2 === 0 ? 8081 : 8080)));
    for (const c of bare.clients) c.close();
    await new Promise((r) => setTimeout(r, 3000));

    for (const p of defaults) await put(cp.url, `/meshes/default/${plural(p.type)}/${p.name}`, { type: p.type, mesh: 'default', name: p.name, spec: p.spec });
    for (const p of benchPolicies()) await put(cp.url, `/meshes/default/${p.plural}/${p.name}`, { type: p.type, mesh: 'default', name: p.name, spec: p.spec });
    const withPolicies = await connectAll([`127.0.0.1:${cp.dpPlaintextPort}`], [pidOf(cp)], () => procStats(pidOf(cp)));
    const clients = withPolicies.clients;
    // Ports continue where the run without policies left dp-0 (an odd REPS leaves it on 8081).
    const endpoint = await profiled(pidOf(cp), 'endpoint', () => propagationWithCost(clients, (rep) => putAll(cp.url, [0], () => ((rep + REPS) % 2 === 0 ? 8081 : 8080))));
    const cpu0 = procStats(pidOf(cp)).cpuSeconds;
    const policy = await profiled(pidOf(cp), 'meshtimeout', () =>
      propagationOfType(clients, REPS, TypeUrl.RouteConfiguration, (rep) =>
        put(cp.url, '/meshes/default/meshtimeouts/mesh-timeout-all-default', { type: 'MeshTimeout', mesh: 'default', name: 'mesh-timeout-all-default', spec: meshTimeout(rep % 2 === 0 ? '16s' : '15s') }),
      ),
    );
    const cpu1 = procStats(pidOf(cp)).cpuSeconds;
    // Zero trust (issue 12): with the mesh's mTLS on, a mesh-wide MeshTrafficPermission change
    // (every proxy's inbound RBAC) until every proxy received its new listeners.
    let mtp: { propagation: ReturnType<typeof summary>; p99OverEndpointP99: number; cpuSecondsPerChange: number } | undefined;
    if (ONLY.has('mtp')) {
      // Turning mTLS on changes the Mesh, so every proxy is rebuilt (about as long as the initial
      // configuration): wait until all have their new listeners, or the first MTP change would be
      // measured on top of that rebuild (a fixed 20 s wait was too short at 10,000 proxies).
      const mtlsOn = await propagationOfType(clients, 1, TypeUrl.Listener, () =>
        put(cp.url, '/meshes/default', { type: 'Mesh', name: 'default', mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } }),
      );
      process.stderr.write(`policies: mTLS on at every proxy after ${Math.round(mtlsOn.at(-1)!)} ms\n`);
      await new Promise((r) => setTimeout(r, 3000));
      const c0 = procStats(pidOf(cp)).cpuSeconds;
      const times = await profiled(pidOf(cp), 'mtp', () => propagationOfType(clients, REPS, TypeUrl.Listener, (rep) =>
        put(cp.url, '/meshes/default/meshtrafficpermissions/allow-mesh', {
          type: 'MeshTrafficPermission',
          mesh: 'default',
          name: 'allow-mesh',
          spec: { targetRef: { kind: 'Mesh' }, from: [{ targetRef: { kind: 'Mesh' }, default: { action: rep % 2 === 0 ? 'Allow' : 'AllowWithShadowDeny' } }] },
        }),
      ));
      mtp = { propagation: summary(times), p99OverEndpointP99: round(percentile(times, 99) / percentile(endpoint.times, 99)), cpuSecondsPerChange: round((procStats(pidOf(cp)).cpuSeconds - c0) / REPS, 3) };
    }
    for (const c of clients) c.close();
    return {
      initialConfigSeconds: round(withPolicies.seconds),
      endpointPropagationWithoutPolicies: summary(bareEndpoint.times),
      endpointPropagation: summary(endpoint.times),
      meshTimeoutPropagation: summary(policy),
      meshTimeoutP99OverEndpointP99: round(percentile(policy, 99) / percentile(endpoint.times, 99)),
      cpuSecondsPerPolicyChange: round((cpu1 - cpu0) / REPS, 3),
      ...(mtp ? { meshTrafficPermissionWithMtls: mtp } : {}),
      marginalRssPerStreamKB: { withoutPolicies: marginalKB([bare.half], [bare.all], T.proxies), withPolicies: marginalKB([withPolicies.half], [withPolicies.all], T.proxies) },
    };
  } finally {
    await cp.destroy();
  }
}

export async function run(): Promise<unknown> {
  const inprocess = ONLY.has('inprocess') ? await inProcess() : undefined;
  if (inprocess) console.log('in process (projector alone):', inprocess);
  const serve = ONLY.has('serve') ? await served() : undefined;
  const floor = ONLY.has('floor') ? await benchFloor() : undefined;
  if (serve) {
    console.log('single process with policies:', serve);
    if (floor)
      console.log({
        endpointP99OverFloor: round(serve.endpointPropagation.p99ms / floor.propagation.p99ms),
        endpointP99WithoutPoliciesOverFloor: round(serve.endpointPropagationWithoutPolicies.p99ms / floor.propagation.p99ms),
        floorP99ms: floor.propagation.p99ms,
      });
  }
  return { topology: T, repetitions: REPS, inprocess, serve, floor };
}
