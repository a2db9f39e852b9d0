/**
 * Kubernetes mode (issue 14): BENCH_K8S_PODS (1,000) injected Pods behind BENCH_K8S_PODS/10
 * Services are created at once, ready, in the FAKE API server (libs/testkit/fake-kube-apiserver.ts,
 * a test double in this process; no cluster is used) that a real kuma-cp child follows with
 * KUMA_STORE_TYPE=kubernetes. Measured per Pod, from its creation (ready at once):
 * - until its Dataplane object exists (the Pod controller wrote it back);
 * - until its proxy, a lean delta-ADS client that presents the Pod's service account token and
 *   connects as soon as the Dataplane object appears (retrying while the control plane does not
 *   know it yet, as kuma-dp does), has its inbound listener (the first xDS configuration);
 * - the control plane's CPU (its whole process: controller, log source, translation, xDS) per Pod
 *   event, for the creates and for a readiness flip of every Pod.
 * Baseline, same run: the same number of Dataplane objects written directly (no Pods, no
 * controller), so the ratio is what the Pod path adds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fullRegistry } from '../../libs/policies/registry.ts';
import { CORE_KINDS, FakeKubeApiServer, kumaKinds, type KubeObject } from '../../libs/testkit/fake-kube-apiserver.ts';
import { KumaCpProcess, REPO_ROOT } from '../../libs/testkit/kuma-cp.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { LeanEnvoy } from './lean-envoy.ts';
import { pidOf, procStats } from './scale.ts';
import { percentile, round } from './stats.ts';

const PODS = Number(process.env['BENCH_K8S_PODS'] ?? 1000);
const SERVICES = Math.max(1, Math.round(PODS / 10));
const kinds = [...CORE_KINDS, ...kumaKinds(fullRegistry().all())];
const kind = (plural: string) => kinds.find((k) => k.plural === plural)!;
/** BENCH_PROFILE_DIR=<dir>: a CPU profile of the control plane while the Pods are created (test/bench/profile-on-signal.mjs). */
const PROFILE_DIR = process.env['BENCH_PROFILE_DIR'];

function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return { p50ms: round(percentile(s, 50)), p99ms: round(percentile(s, 99)), maxMs: round(s[s.length - 1] ?? NaN) };
}

/** Connects a proxy for `dp` (retrying every 100 ms while the control plane refuses it) and resolves with when it had an inbound listener. */
async function firstConfig(target: string, nodeId: string, token: string, deadline: number, open: Set<LeanEnvoy>): Promise<number> {
  for (;;) {
    const c = new LeanEnvoy(target, nodeId, token);
    open.add(c);
    try {
      await c.waitFor((x) => x.names(TypeUrl.Listener).some((n) => n.startsWith('inbound:')), Math.max(1, deadline - performance.now()));
      return c.responses.find((r) => r.typeUrl === TypeUrl.Listener && r.changed.some((n) => n.startsWith('inbound:')))!.at;
    } catch (err) {
      c.close();
      open.delete(c);
      if (performance.now() > deadline) throw new Error(`${nodeId}: no configuration in time: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Waits for `names` to appear in the fake (polling its store), connecting each one's proxy when
 * it does; resolves with per-name object and first-config times from `t0`.
 */
async function follow(fake: FakeKubeApiServer, cp: KumaCpProcess, namespace: string, names: string[], t0: number, sa: string) {
  const deadline = t0 + 180_000;
  const objectAt = new Map<string, number>();
  const configs: Promise<number>[] = [];
  const open = new Set<LeanEnvoy>();
  const token = fake.serviceAccountToken(namespace, sa);
  const missing = new Set(names);
  while (missing.size > 0) {
    if (performance.now() > deadline) throw new Error(`${missing.size} Dataplane objects missing after 180 s`);
    for (const n of [...missing]) {
      if (!fake.get(kind('dataplanes'), namespace, n)) continue;
      missing.delete(n);
      objectAt.set(n, performance.now());
      configs.push(firstConfig(`127.0.0.1:${cp.dpPlaintextPort}`, `default.${n}.${namespace}`, token, deadline, open));
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const objectsDone = performance.now();
  const configAt = await Promise.all(configs);
  const configsDone = performance.now();
  for (const c of open) c.close();
  return { object: names.map((n) => objectAt.get(n)! - t0), config: configAt.map((t) => t - t0), objectsDone, configsDone };
}

export async function run() {
  const fake = await FakeKubeApiServer.start(kinds);
  const dir = mkdtempSync(join(tmpdir(), 'bench-k8s-'));
  const kubeconfig = fake.kubeconfigFile(dir);
  const cp = await KumaCpProcess.start({
    plaintext: true,
    nodeArgs: PROFILE_DIR ? ['--import', pathToFileURL(join(REPO_ROOT, 'test/bench/profile-on-signal.mjs')).href] : [],
    env: {
      ...(PROFILE_DIR ? { BENCH_PROFILE_DIR: PROFILE_DIR } : {}), KUMA_STORE_TYPE: 'kubernetes', KUBECONFIG: kubeconfig, KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_ADDRESS: '127.0.0.1', KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_PORT: String(await freePort()), KUMA_LOG_LEVEL: 'warn' },
  });
  const pid = pidOf(cp);
  const waitUntil = async (what: string, cond: () => boolean, timeoutMs = 180_000) => {
    const t = performance.now();
    while (!cond()) {
      if (performance.now() - t > timeoutMs) throw new Error(`${what} not done in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return performance.now() - t;
  };
  try {
    const pod = (ns: string, i: number, ready: boolean): KubeObject => ({
      metadata: { name: `pod-${i}`, namespace: ns, labels: { app: `svc-${i % SERVICES}` }, annotations: { 'kuma.io/sidecar-injected': 'true', 'kuma.io/transparent-proxying': 'enabled', 'kuma.io/transparent-proxying-inbound-port': '15006', 'kuma.io/transparent-proxying-outbound-port': '15001' } },
      spec: { containers: [{ name: 'kuma-sidecar' }, { name: 'app', ports: [{ containerPort: 8080 }] }] },
      status: { podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, containerStatuses: [{ name: 'kuma-sidecar', ready }, { name: 'app', ready }] },
    });
    const names = Array.from({ length: PODS }, (_, i) => `pod-${i}`);
    const namespace = async (ns: string) => {
      fake.put(kind('namespaces'), { metadata: { name: ns, labels: { 'kuma.io/sidecar-injection': 'enabled' } } });
      for (let s = 0; s < SERVICES; s++) fake.put(kind('services'), { metadata: { name: `svc-${s}`, namespace: ns }, spec: { selector: { app: `svc-${s}` }, ports: [{ port: 80, targetPort: 8080, appProtocol: 'http' }] } });
      await new Promise((r) => setTimeout(r, 2000));
    };
    const inLog = async (n: number) => Number(((await (await fetch(`${cp.url}/meshes/default/dataplanes?size=1`)).json()) as { total: number }).total) === n;
    const logCount = async (n: number, timeoutMs = 180_000) => {
      const t = performance.now();
      while (!(await inLog(n))) {
        if (performance.now() - t > timeoutMs) throw new Error(`the log did not reach ${n} Dataplanes`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // 1. The Pod path alone (no proxies): Pods at once -> Dataplane objects -> the log. Then a readiness flip, then deletes.
    await namespace('objects');
    if (PROFILE_DIR) process.kill(pid, 'SIGPWR');
    let cpu = procStats(pid).cpuSeconds;
    const t0 = performance.now();
    for (let i = 0; i < PODS; i++) fake.put(kind('pods'), pod('objects', i, true));
    const objectAt = new Map<string, number>();
    await waitUntil('Dataplane objects', () => {
      for (const n of names) if (!objectAt.has(n) && fake.get(kind('dataplanes'), 'objects', n)) objectAt.set(n, performance.now() - t0);
      return objectAt.size === PODS;
    });
    const allObjectsMs = performance.now() - t0;
    await logCount(PODS);
    const allInLogMs = performance.now() - t0;
    if (PROFILE_DIR) process.kill(pid, 'SIGPWR');
    const cpuCreates = procStats(pid).cpuSeconds - cpu;
    cpu = procStats(pid).cpuSeconds;
    const flipMs = await (async () => {
      const t = performance.now();
      for (let i = 0; i < PODS; i++) fake.put(kind('pods'), { ...(fake.get(kind('pods'), 'objects', `pod-${i}`) as KubeObject), status: pod('objects', i, false)['status'] });
      const notReady = (n: string) => (fake.get(kind('dataplanes'), 'objects', n)?.['spec'] as { networking?: { inbound?: { state?: string }[] } } | undefined)?.networking?.inbound?.[0]?.state === 'NotReady';
      await waitUntil('readiness flip', () => names.every(notReady));
      return performance.now() - t;
    })();
    await new Promise((r) => setTimeout(r, 1000));
    const cpuUpdates = procStats(pid).cpuSeconds - cpu;
    cpu = procStats(pid).cpuSeconds;
    const t1 = performance.now();
    for (const n of names) fake.remove(kind('pods'), 'objects', n);
    // Kubernetes' garbage collector removes what the Pods owned; the fake has none: the controller's own deletes are what remove them here.
    await waitUntil('Dataplane objects deleted', () => names.every((n) => !fake.get(kind('dataplanes'), 'objects', n)));
    await logCount(0);
    const deleteMs = performance.now() - t1;
    const cpuDeletes = procStats(pid).cpuSeconds - cpu;

    // 2. With proxies: Pods at once, each proxy connecting when its Dataplane object appears.
    await namespace('bench');
    const t2 = performance.now();
    for (let i = 0; i < PODS; i++) fake.put(kind('pods'), pod('bench', i, true));
    const pods = await follow(fake, cp, 'bench', names, t2, 'default');
    for (const n of names) fake.remove(kind('pods'), 'bench', n);
    await logCount(0);

    // 3. Baseline: as many Dataplane objects written directly (no Pods, no controller), proxies as in 2.
    const direct = names.map((n) => `dp-${n}`);
    const t3 = performance.now();
    for (let i = 0; i < PODS; i++) {
      fake.put(kind('dataplanes'), {
        mesh: 'default',
        metadata: { name: direct[i]!, namespace: 'direct', labels: { 'k8s.kuma.io/namespace': 'direct', 'k8s.kuma.io/service-account': 'default' } },
        spec: { networking: { address: `10.100.${(i >> 8) & 255}.${i & 255}`, inbound: [{ port: 8080, tags: { 'kuma.io/service': `svc-${i % SERVICES}_direct_svc_80`, 'kuma.io/protocol': 'http' } }], transparentProxying: { redirectPortInbound: 15006, redirectPortOutbound: 15001 } } },
      } as KubeObject);
    }
    const baseline = await follow(fake, cp, 'direct', direct, t3, 'default');

    const result = {
      pods: PODS,
      services: SERVICES,
      withoutProxies: {
        podToDataplaneObject: summary([...objectAt.values()]),
        allDataplaneObjectsMs: round(allObjectsMs),
        allInLogMs: round(allInLogMs),
        cpuPerPodCreateMs: round((cpuCreates * 1000) / PODS),
        readinessFlipAllWrittenMs: round(flipMs),
        cpuPerPodUpdateMs: round((cpuUpdates * 1000) / PODS),
        deleteAllMs: round(deleteMs),
        cpuPerPodDeleteMs: round((cpuDeletes * 1000) / PODS),
      },
      withProxies: {
        podToDataplaneObject: summary(pods.object),
        podToFirstXds: summary(pods.config),
        allFirstXdsMs: round(pods.configsDone - t2),
      },
      directDataplanes: { dataplaneToFirstXds: summary(baseline.config), allFirstXdsMs: round(baseline.configsDone - t3) },
      firstXdsP99VsDirect: round(percentile([...pods.config].sort((a, b) => a - b), 99) / percentile([...baseline.config].sort((a, b) => a - b), 99)),
    };
    console.log(JSON.stringify(result, null, 2));
    return result;
  } finally {
    await cp.destroy();
    await fake.close();
  }
}
