import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './eventually.ts';
import { CORE_KINDS, FakeKubeApiServer, type KubeObject } from './fake-kube-apiserver.ts';

/** The fake API server against the real @kubernetes/client-node: what Kubernetes mode is tested with must behave as a real one does to it. */
let fake: FakeKubeApiServer;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
const POD = CORE_KINDS.find((k) => k.plural === 'pods')!;

const pod = (name: string, labels: Record<string, string> = {}): k8s.V1Pod => ({ metadata: { name, namespace: 'shop', labels }, spec: { containers: [{ name: 'app', image: 'app' }] } });
const codeOf = async (p: Promise<unknown>): Promise<number | undefined> =>
  p.then(
    () => undefined,
    (e: unknown) => (e as { code?: number }).code,
  );

beforeAll(async () => {
  fake = await FakeKubeApiServer.start();
  kc = new k8s.KubeConfig();
  kc.loadFromOptions(fake.kubeconfig());
  core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'shop' } } });
});
afterAll(async () => fake?.close());

describe('FakeKubeApiServer (a test double) with @kubernetes/client-node', () => {
  it('creates, reads, lists, updates with optimistic concurrency, patches, updates status and deletes', async () => {
    const created = await core.createNamespacedPod({ namespace: 'shop', body: pod('crud-1', { app: 'web' }) });
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.uid).toBeTruthy();
    expect(await codeOf(core.createNamespacedPod({ namespace: 'shop', body: pod('crud-1') }))).toBe(409);
    expect((await core.readNamespacedPod({ name: 'crud-1', namespace: 'shop' })).metadata?.labels).toEqual({ app: 'web' });
    expect((await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' })).items.map((p) => p.metadata?.name)).toContain('crud-1');
    expect((await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=nope' })).items).toEqual([]);

    const updated = await core.replaceNamespacedPod({ name: 'crud-1', namespace: 'shop', body: { ...created, metadata: { ...created.metadata, labels: { app: 'web', v: '2' } } } });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    // The version it was read at is stale now: refused, and nothing changes.
    expect(await codeOf(core.replaceNamespacedPod({ name: 'crud-1', namespace: 'shop', body: { ...created, metadata: { ...created.metadata, labels: {} } } }))).toBe(409);
    expect((await core.readNamespacedPod({ name: 'crud-1', namespace: 'shop' })).metadata?.labels).toEqual({ app: 'web', v: '2' });

    const patched = await core.patchNamespacedPod({ name: 'crud-1', namespace: 'shop', body: { metadata: { labels: { v: null, tier: 'gold' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    expect(patched.metadata?.labels).toEqual({ app: 'web', tier: 'gold' });

    // The status subresource changes the status alone; the main resource leaves the status alone.
    await core.replaceNamespacedPodStatus({ name: 'crud-1', namespace: 'shop', body: { ...patched, metadata: { ...patched.metadata, labels: {} }, status: { podIP: '10.0.0.9' } } });
    const withStatus = await core.readNamespacedPod({ name: 'crud-1', namespace: 'shop' });
    expect(withStatus.status?.podIP).toBe('10.0.0.9');
    expect(withStatus.metadata?.labels).toEqual({ app: 'web', tier: 'gold' });
    await core.replaceNamespacedPod({ name: 'crud-1', namespace: 'shop', body: { ...withStatus, status: {} } });
    expect((await core.readNamespacedPod({ name: 'crud-1', namespace: 'shop' })).status?.podIP).toBe('10.0.0.9');

    await core.deleteNamespacedPod({ name: 'crud-1', namespace: 'shop' });
    expect(await codeOf(core.readNamespacedPod({ name: 'crud-1', namespace: 'shop' }))).toBe(404);
  });

  it('pages a list with limit and continue at one resourceVersion', async () => {
    for (let i = 0; i < 5; i++) await core.createNamespacedPod({ namespace: 'shop', body: pod(`page-${i}`, { page: 'yes' }) });
    const names: string[] = [];
    let cont: string | undefined;
    do {
      const page = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'page=yes', limit: 2, ...(cont ? { _continue: cont } : {}) });
      names.push(...page.items.map((p) => p.metadata!.name!));
      cont = page.metadata?._continue;
    } while (cont);
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  });

  it("feeds an informer: the list, then watch events; after a dropped watch and compacted history (410 Gone) it relists and misses nothing", async () => {
    const path = '/api/v1/namespaces/shop/pods';
    const informer = k8s.makeInformer(kc, path, () => core.listNamespacedPod({ namespace: 'shop', labelSelector: 'inf=yes' }), 'inf=yes');
    const seen = new Map<string, string>();
    informer.on('add', (p) => seen.set(p.metadata!.name!, p.metadata!.labels?.['v'] ?? ''));
    informer.on('update', (p) => seen.set(p.metadata!.name!, p.metadata!.labels?.['v'] ?? ''));
    informer.on('delete', (p) => seen.delete(p.metadata!.name!));
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await core.createNamespacedPod({ namespace: 'shop', body: pod('inf-0', { inf: 'yes', v: '1' }) });
    await informer.start();
    try {
      await eventually(async () => expect(Object.fromEntries(seen)).toEqual({ 'inf-0': '1' }));
      await core.createNamespacedPod({ namespace: 'shop', body: pod('inf-1', { inf: 'yes', v: '1' }) });
      await core.patchNamespacedPod({ name: 'inf-0', namespace: 'shop', body: { metadata: { labels: { v: '2' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await eventually(async () => expect(Object.fromEntries(seen)).toEqual({ 'inf-0': '2', 'inf-1': '1' }));

      // While its watch receives nothing, an object comes and one goes; then the server expires
      // the watch (410 Gone, history compacted): the informer relists and misses neither.
      const lists = () => fake.requests.filter((r) => r.startsWith('GET /api/v1/namespaces/shop/pods?') && !r.includes('watch=true')).length;
      const listsBefore = lists();
      const watchesBefore = fake.requests.filter((r) => r.includes('watch=true')).length;
      fake.pauseWatches();
      fake.put(POD, pod('inf-2', { inf: 'yes', v: '1' }) as KubeObject);
      fake.remove(POD, 'shop', 'inf-1');
      await new Promise((r) => setTimeout(r, 200));
      expect(Object.fromEntries(seen)).toEqual({ 'inf-0': '2', 'inf-1': '1' });
      fake.expireWatches();
      await eventually(async () => expect(Object.fromEntries(seen)).toEqual({ 'inf-0': '2', 'inf-2': '1' }), 10_000);
      expect(fake.requests.filter((r) => r.includes('watch=true')).length).toBeGreaterThan(watchesBefore);
      // Both reached it through the relist alone.
      expect(lists()).toBe(listsBefore + 1);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });

  it('answers hostile requests with a Status naming the problem, and stays up', async () => {
    const before = fake.list(POD).length;
    const post = (body: string, path = '/api/v1/namespaces/shop/pods') => fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const bad = await post('{"metadata": ');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    expect((await post('[]')).status).toBe(400);
    expect((await post(JSON.stringify({ metadata: {} }))).status).toBe(422);
    expect((await post(JSON.stringify({ metadata: { name: 'x', namespace: 'other' } }))).status).toBe(400);
    expect((await post('{}', '/apis/kuma.io/v1alpha1/meshes')).status).toBe(404);
    expect((await post('x'.repeat(4 * 1024 * 1024))).status).toBe(413);
    // Nothing was stored, and the server still answers.
    expect(fake.list(POD).length).toBe(before);
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).toContain('shop');
  });
});
