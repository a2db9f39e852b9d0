import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullRegistry } from '../../libs/policies/registry.ts';
import { eventually } from '../../libs/testkit/eventually.ts';
import { CORE_KINDS, FakeKubeApiServer, kumaKinds } from '../../libs/testkit/fake-kube-apiserver.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';
import { freePort } from '../../libs/testkit/ports.ts';

/**
 * Kubernetes mode with the log in JetStream (`store.kubernetes.log: nats`): two real kuma-cp
 * replicas follow the FAKE API server (a test double; no cluster is used) into one log on a real
 * nats-server. Each change they both observe is in the log once; one replica leads (writes
 * Dataplanes), and when it stops the other takes over.
 */
const kinds = [...CORE_KINDS, ...kumaKinds(fullRegistry().all())];
const kind = (plural: string) => kinds.find((k) => k.plural === plural)!;

let nats: NatsServer;
let fake: FakeKubeApiServer;
let a: KumaCpProcess;
let b: KumaCpProcess;

beforeAll(async () => {
  nats = await NatsServer.start();
  fake = await FakeKubeApiServer.start(kinds);
  fake.users.set('fake-token', 'system:serviceaccount:kuma-system:kuma-control-plane');
  const dir = mkdtempSync(join(tmpdir(), 'k8s-js-'));
  const kubeconfig = fake.kubeconfigFile(dir);
  const env = async () => ({
    KUMA_STORE_TYPE: 'kubernetes',
    KUMA_STORE_KUBERNETES_LOG: 'nats',
    KUMA_STORE_NATS_URL: nats.url,
    KUBECONFIG: kubeconfig,
    KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_ADDRESS: '127.0.0.1',
    KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_PORT: String(await freePort()),
  });
  a = await KumaCpProcess.start({ env: await env() });
  b = await KumaCpProcess.start({ env: await env() });
}, 90_000);

afterAll(async () => {
  await a?.destroy();
  await b?.destroy();
  await fake?.close();
  await nats?.stop();
});

const holder = () => (fake.get(kind('leases'), 'kuma-system', 'cp-leader-lease')?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity ?? '';
const historyOf = async (cp: KumaCpProcess, path: string) => ((await http(cp.url, 'GET', `${path}/_history`)).body as { items: { op?: string }[] }).items;

describe('Kubernetes mode on a shared JetStream log (two replicas)', () => {
  it('appends each change both replicas observe once; one replica leads and writes the Dataplane', async () => {
    await eventually(async () => expect(holder()).not.toBe(''), 20_000);
    const res = await fake.kubectlCreate('/apis/kuma.io/v1alpha1/namespaces/kuma-system/meshtimeouts', {
      apiVersion: 'kuma.io/v1alpha1',
      kind: 'MeshTimeout',
      metadata: { name: 'shared', namespace: 'kuma-system', labels: { 'kuma.io/mesh': 'default' } },
      spec: { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: '7s' } }] },
    });
    expect(res.status).toBe(201);
    const path = '/meshes/default/meshtimeouts/shared.kuma-system';
    await eventually(async () => {
      expect((await http(a.url, 'GET', path)).status).toBe(200);
      expect((await http(b.url, 'GET', path)).status).toBe(200);
    }, 20_000);
    // Both replicas saw it; the log has it once (both read the same log).
    await new Promise((r) => setTimeout(r, 500));
    expect(await historyOf(a, path)).toHaveLength(1);
    expect(await historyOf(b, path)).toHaveLength(1);

    fake.put(kind('namespaces'), { metadata: { name: 'shop' } });
    fake.put(kind('pods'), {
      metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' }, annotations: { 'kuma.io/sidecar-injected': 'true' } },
      spec: { containers: [{ name: 'app', ports: [{ containerPort: 8080 }] }, { name: 'kuma-sidecar' }] },
      status: { podIP: '10.0.0.7', containerStatuses: [{ name: 'app', ready: true }, { name: 'kuma-sidecar', ready: true }] },
    });
    await eventually(async () => expect((await http(b.url, 'GET', '/meshes/default/dataplanes/web-1.shop')).status).toBe(200), 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(await historyOf(a, '/meshes/default/dataplanes/web-1.shop')).toHaveLength(1);
  }, 60_000);

  it('hands the lead over when the leader stops: the other replica writes the next Dataplane', async () => {
    const first = holder();
    // Which one leads: the one whose log says it (its identity is <host>-<pid>).
    const [leader, follower] = first.endsWith(`-${pidOf(a)}`) ? [a, b] : [b, a];
    await leader.stop();
    // Released (an empty holder) on stop, then taken by the other replica.
    await eventually(async () => expect([holder() !== first, holder() !== '']).toEqual([true, true]), 20_000);
    fake.put(kind('pods'), {
      metadata: { name: 'web-2', namespace: 'shop', labels: { app: 'web' }, annotations: { 'kuma.io/sidecar-injected': 'true' } },
      spec: { containers: [{ name: 'app', ports: [{ containerPort: 8080 }] }, { name: 'kuma-sidecar' }] },
      status: { podIP: '10.0.0.8', containerStatuses: [{ name: 'app', ready: true }, { name: 'kuma-sidecar', ready: true }] },
    });
    await eventually(async () => expect((await http(follower.url, 'GET', '/meshes/default/dataplanes/web-2.shop')).status).toBe(200), 20_000);
  }, 60_000);
});

function pidOf(cp: KumaCpProcess): number {
  return (cp as unknown as { proc: { pid: number } }).proc.pid;
}
