import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../testkit/eventually.ts';
import { CORE_KINDS, FakeKubeApiServer, type KubeObject, type ResourceKind } from '../testkit/fake-kube-apiserver.ts';
import { KUMA_GROUP, KUMA_VERSION, PodController } from './pod-controller.ts';

/**
 * The Pod controller against the FAKE API server (a test double, see libs/testkit): Pods,
 * Services, Namespaces and Meshes change in any order and the Dataplane objects follow.
 */
const kind = (plural: string): ResourceKind => CORE_KINDS.find((k) => k.plural === plural)!;
const DATAPLANES: ResourceKind = { group: KUMA_GROUP, version: KUMA_VERSION, plural: 'dataplanes', kind: 'Dataplane', namespaced: true };
const MESHES: ResourceKind = { group: KUMA_GROUP, version: KUMA_VERSION, plural: 'meshes', kind: 'Mesh', namespaced: false };

let fake: FakeKubeApiServer;
let controller: PodController;

const pod = (name: string, ns: string, opts: { ip?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): KubeObject => ({
  metadata: { name, namespace: ns, labels: opts.labels ?? { app: 'web' }, annotations: { 'kuma.io/sidecar-injected': 'true', ...opts.annotations } },
  spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }, { name: 'kuma-sidecar' }] },
  status: { ...(opts.ip ? { podIP: opts.ip } : {}), containerStatuses: [{ name: 'app', ready: true }, { name: 'kuma-sidecar', ready: true }] },
});
const service = (name: string, ns: string, port: number, selector: Record<string, string> = { app: 'web' }): KubeObject => ({
  metadata: { name, namespace: ns },
  spec: { selector, ports: [{ port, targetPort: 'http', appProtocol: 'http' }] },
});
const dataplane = (ns: string, name: string) => fake.get(DATAPLANES, ns, name) as (KubeObject & { mesh: string; spec: { networking: { inbound: { port: number; tags: Record<string, string> }[] } } }) | undefined;
const services = (ns: string, name: string) => dataplane(ns, name)?.spec.networking.inbound.map((i) => i.tags['kuma.io/service']).sort();

beforeAll(async () => {
  fake = await FakeKubeApiServer.start([...CORE_KINDS, DATAPLANES, MESHES]);
  fake.put(MESHES, { metadata: { name: 'default' } });
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions(fake.kubeconfig());
  controller = new PodController(kc, { logger: pino({ level: 'silent' }), retryMs: 50 });
  await controller.start();
});
afterAll(async () => {
  await controller?.stop();
  await fake?.close();
});

describe('the Pod controller (against the fake API server)', () => {
  it('writes a Dataplane for an injected Pod once it has an IP, and follows its Services in any order', async () => {
    fake.put(kind('namespaces'), { metadata: { name: 'shop' } });
    fake.put(kind('pods'), pod('web-1', 'shop'));
    await controller.idle();
    expect(dataplane('shop', 'web-1')).toBeUndefined();
    fake.put(kind('pods'), pod('web-1', 'shop', { ip: '10.0.0.1' }));
    // No Service yet: the serviceless inbound.
    await eventually(async () => expect(services('shop', 'web-1')).toEqual(['web-1_shop_svc']));
    fake.put(kind('services'), service('web', 'shop', 80));
    await eventually(async () => expect(services('shop', 'web-1')).toEqual(['web_shop_svc_80']));
    fake.put(kind('services'), service('web-admin', 'shop', 81));
    await eventually(async () => expect(services('shop', 'web-1')).toEqual(['web-admin_shop_svc_81', 'web_shop_svc_80']));
    const dp = dataplane('shop', 'web-1')!;
    expect(dp.mesh).toBe('default');
    expect(dp.metadata?.['ownerReferences']).toEqual([expect.objectContaining({ kind: 'Pod', name: 'web-1' })]);
    // A Service that stops selecting the Pod takes its inbound with it.
    fake.put(kind('services'), service('web-admin', 'shop', 81, { app: 'admin' }));
    await eventually(async () => expect(services('shop', 'web-1')).toEqual(['web_shop_svc_80']));
  });

  it("copies its Node's topology labels onto the inbound tags, and follows them, not the Node's heartbeats", async () => {
    fake.put(kind('nodes'), { metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'eu-1a', 'kubernetes.io/hostname': 'node-a', other: 'x' } } });
    fake.put(kind('namespaces'), { metadata: { name: 'nodes' } });
    const p = pod('web-1', 'nodes', { ip: '10.0.9.1' });
    fake.put(kind('pods'), { ...p, spec: { ...(p['spec'] as object), nodeName: 'node-a' } });
    const tags = () => dataplane('nodes', 'web-1')?.spec.networking.inbound[0]?.tags;
    await eventually(async () => expect(tags()).toMatchObject({ 'topology.kubernetes.io/zone': 'eu-1a', 'kubernetes.io/hostname': 'node-a' }));
    expect(tags()).not.toHaveProperty('other');
    // A heartbeat (status only): nothing reconciled.
    await controller.idle();
    const before = controller.counts.reconciles;
    fake.put(kind('nodes'), { ...fake.get(kind('nodes'), undefined, 'node-a')!, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    await new Promise((r) => setTimeout(r, 200));
    await controller.idle();
    expect(controller.counts.reconciles).toBe(before);
    // The zone label changed: the Dataplane follows.
    fake.put(kind('nodes'), { metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'eu-1b', 'kubernetes.io/hostname': 'node-a' } } });
    await eventually(async () => expect(tags()?.['topology.kubernetes.io/zone']).toBe('eu-1b'));
  });

  it('converges to the same Dataplane when the Service comes before the Pod', async () => {
    fake.put(kind('namespaces'), { metadata: { name: 'shop2' } });
    fake.put(kind('services'), service('web', 'shop2', 80));
    fake.put(kind('pods'), pod('web-1', 'shop2', { ip: '10.0.0.2' }));
    await eventually(async () => expect(services('shop2', 'web-1')).toEqual(['web_shop2_svc_80']));
    const a = dataplane('shop', 'web-1')!.spec.networking.inbound.find((i) => i.tags['kuma.io/service'] === 'web_shop_svc_80')!;
    const b = dataplane('shop2', 'web-1')!.spec.networking.inbound[0]!;
    expect({ ...b.tags, 'k8s.kuma.io/namespace': 'shop', 'kuma.io/service': 'web_shop_svc_80' }).toEqual(a.tags);
  });

  it('does not write a Dataplane in a Mesh that does not exist, reports it on the Pod, and writes it once the Mesh exists', async () => {
    fake.put(kind('namespaces'), { metadata: { name: 'pay', labels: { 'kuma.io/mesh': 'payments' } } });
    fake.put(kind('pods'), pod('api-1', 'pay', { ip: '10.0.1.1', labels: { app: 'api' } }));
    await eventually(async () => {
      const events = fake.list(kind('events')).filter((e) => (e['involvedObject'] as { name: string }).name === 'api-1');
      expect(events.map((e) => [e['reason'], e['type']])).toEqual([['MeshNotFound', 'Warning']]);
      expect(String(events[0]!['message'])).toMatch(/mesh "payments" does not exist/);
    });
    expect(dataplane('pay', 'api-1')).toBeUndefined();
    fake.put(MESHES, { metadata: { name: 'payments' } });
    await eventually(async () => expect(dataplane('pay', 'api-1')?.mesh).toBe('payments'));
    // Reported once, not once per reconcile.
    expect(fake.list(kind('events')).filter((e) => (e['involvedObject'] as { name: string }).name === 'api-1')).toHaveLength(1);
  });

  it('reports what Kuma only logs (a Service port with no container port) and removes the Dataplane of a deleted Pod', async () => {
    fake.put(kind('namespaces'), { metadata: { name: 'odd' } });
    fake.put(kind('services'), { metadata: { name: 'odd', namespace: 'odd' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'nope' }, { port: 81, targetPort: 'http' }] } });
    fake.put(kind('pods'), pod('odd-1', 'odd', { ip: '10.0.2.1' }));
    await eventually(async () => expect(services('odd', 'odd-1')).toEqual(['odd_odd_svc_81']));
    await eventually(async () => expect(fake.list(kind('events')).some((e) => /container port "nope"/.test(String(e['message'])))).toBe(true));
    fake.remove(kind('pods'), 'odd', 'odd-1');
    await eventually(async () => expect(dataplane('odd', 'odd-1')).toBeUndefined());
  });

  it('restarts its watches after the API server fails them, and catches up', async () => {
    fake.put(kind('namespaces'), { metadata: { name: 'flaky' } });
    fake.failNext(6);
    fake.dropWatches();
    fake.put(kind('pods'), pod('late-1', 'flaky', { ip: '10.0.4.1' }));
    await eventually(async () => expect(services('flaky', 'late-1')).toEqual(['late-1_flaky_svc']), 15_000);
    expect(controller.watchRestarts).toBeGreaterThan(0);
  });

  it('removes the Dataplane of a Pod that completed, as Kuma does for Jobs', async () => {
    fake.put(kind('namespaces'), { metadata: { name: 'batch' } });
    fake.put(kind('pods'), pod('job-1', 'batch', { ip: '10.0.5.1' }));
    await eventually(async () => expect(dataplane('batch', 'job-1')).toBeDefined());
    const done = pod('job-1', 'batch', { ip: '10.0.5.1' });
    fake.put(kind('pods'), { ...done, status: { ...(done['status'] as object), phase: 'Succeeded' } });
    await eventually(async () => expect(dataplane('batch', 'job-1')).toBeUndefined());
  });

  it('leaves alone a Dataplane it did not make, and a Pod that is not injected', async () => {
    fake.put(kind('namespaces'), { metadata: { name: 'manual' } });
    fake.put(DATAPLANES, { metadata: { name: 'hand-made', namespace: 'manual' }, mesh: 'default', spec: { networking: { address: '10.9.9.9', inbound: [{ port: 1, tags: { 'kuma.io/service': 'x' } }] } } } as KubeObject);
    const plain = pod('hand-made', 'manual', { ip: '10.0.3.1' });
    fake.put(kind('pods'), { ...plain, metadata: { ...plain.metadata, annotations: {} } });
    await controller.idle();
    fake.remove(kind('pods'), 'manual', 'hand-made');
    await controller.idle();
    await new Promise((r) => setTimeout(r, 200));
    expect(dataplane('manual', 'hand-made')?.spec.networking.inbound[0]?.port).toBe(1);
  });
});
