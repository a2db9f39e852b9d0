import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../event-log/event.ts';
import { openMemoryEventLog } from '../event-log/memory.ts';
import type { EventLog } from '../event-log/port.ts';
import { fullRegistry } from '../policies/registry.ts';
import { eventually } from '../testkit/eventually.ts';
import { CORE_KINDS, FakeKubeApiServer, type KubeObject, type ResourceKind } from '../testkit/fake-kube-apiserver.ts';
import { KubernetesLogSource } from './log-source.ts';
import { KUMA_GROUP, KUMA_VERSION } from './pod-controller.ts';

/** Kubernetes as the source of the log, against the FAKE API server (a test double, see libs/testkit). */
const kumaKind = (kind: string, plural: string, namespaced: boolean): ResourceKind => ({ group: KUMA_GROUP, version: KUMA_VERSION, plural, kind, namespaced });
const MESHES = kumaKind('Mesh', 'meshes', false);
const DATAPLANES = kumaKind('Dataplane', 'dataplanes', true);
const TIMEOUTS = kumaKind('MeshTimeout', 'meshtimeouts', true);
const TYPES = ['Mesh', 'Dataplane', 'MeshTimeout'];
const registry = fullRegistry();

let fake: FakeKubeApiServer;
let kc: k8s.KubeConfig;

const timeout = (name: string, requestTimeout: string, manager = 'kubectl-client-side-apply'): KubeObject => ({
  metadata: { name, namespace: 'kuma-system', labels: { 'kuma.io/mesh': 'default' }, managedFields: [{ manager, operation: 'Update', time: '2026-12-07T10:00:00Z' }] },
  spec: { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { http: { requestTimeout } } }] },
});
const dataplane = (name: string, ns: string): KubeObject => ({
  metadata: { name, namespace: ns },
  mesh: 'default',
  spec: { networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': `${name}_${ns}_svc_80` } }] } },
});

async function events(log: EventLog): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of log.read(1)) out.push(e);
  return out;
}
const summary = (es: StoredEvent[]) => es.map((e) => `${e.op} ${e.type} ${e.mesh ?? '-'} ${e.name}`);
const source = (log: EventLog) => new KubernetesLogSource(kc, log, registry, { logger: pino({ level: process.env['DEBUG_K8S'] ? 'debug' : 'silent' }), types: TYPES, retryMs: 50 });

beforeAll(async () => {
  fake = await FakeKubeApiServer.start([...CORE_KINDS, MESHES, DATAPLANES, TIMEOUTS]);
  kc = new k8s.KubeConfig();
  kc.loadFromOptions(fake.kubeconfig());
});
afterAll(async () => fake?.close());

describe('Kubernetes as the source of the log (against the fake API server)', () => {
  it('appends what it lists, then each change it watches, with the field manager and resourceVersion; skips what does not change or validate', async () => {
    fake.put(MESHES, { metadata: { name: 'default' }, spec: {} });
    fake.put(TIMEOUTS, timeout('timeout-1', '15s'));
    const log = await openMemoryEventLog();
    const s = source(log);
    await s.start();
    try {
      let es = await events(log);
      expect(summary(es)).toEqual(['upsert Mesh - default', 'upsert MeshTimeout default timeout-1.kuma-system']);
      const t = es[1]!;
      expect(t.actor).toEqual({ subject: 'kubectl-client-side-apply', source: 'kubernetes', requestId: `resourceVersion ${fake.get(TIMEOUTS, 'kuma-system', 'timeout-1')!.metadata!.resourceVersion}` });

      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      const ref = { group: KUMA_GROUP, version: KUMA_VERSION, namespace: 'kuma-system', plural: 'meshtimeouts', name: 'timeout-1' };
      const current = (await custom.getNamespacedCustomObject(ref)) as KubeObject;
      const body = timeout('timeout-1', '20s');
      await custom.replaceNamespacedCustomObject({ ...ref, fieldManager: 'helm', body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata!.resourceVersion } } });
      await eventually(async () => expect((await events(log)).length).toBe(3));
      es = await events(log);
      expect(es[2]!.actor.subject).toBe('helm');
      expect(JSON.stringify(es[2]!.op === 'upsert' && es[2]!.resource.spec)).toContain('20s');

      // A write that changes nothing the log holds (a new resourceVersion, the same spec): no event.
      fake.put(TIMEOUTS, timeout('timeout-1', '20s', 'helm'));
      // One that does not validate (a cluster without the webhook): logged and skipped.
      fake.put(TIMEOUTS, timeout('timeout-1', 'soon'));
      fake.put(DATAPLANES, dataplane('web-1', 'shop'));
      await eventually(async () => expect(summary(await events(log)).at(-1)).toBe('upsert Dataplane default web-1.shop'));
      // Watches of different types are different streams: the invalid MeshTimeout may come after the Dataplane.
      await eventually(async () => expect(s.counts.invalid).toBe(1));
      await s.idle();
      expect(s.counts.unchanged).toBeGreaterThanOrEqual(1);
      expect((await events(log)).length).toBe(4);

      await custom.deleteNamespacedCustomObject({ group: KUMA_GROUP, version: KUMA_VERSION, namespace: 'shop', plural: 'dataplanes', name: 'web-1' });
      await eventually(async () => expect(summary(await events(log)).at(-1)).toBe('delete Dataplane default web-1.shop'));
    } finally {
      await s.stop();
    }
  });

  it('deletes nothing when a list fails at start (an empty cache is no picture of the cluster), and moves a resource whose mesh changed', async () => {
    fake.put(TIMEOUTS, timeout('timeout-1', '20s', 'helm'));
    const log = await openMemoryEventLog();
    const first = source(log);
    await first.start();
    await first.stop();
    const before = await events(log);
    // The first list requests fail: the source waits for lists that succeed, and then finds nothing to do.
    fake.failNext(2);
    const again = source(log);
    await again.start();
    try {
      expect(again.watchRestarts).toBeGreaterThan(0);
      expect((await events(log)).length).toBe(before.length);
      const moved = timeout('timeout-1', '20s', 'helm');
      fake.put(TIMEOUTS, { ...moved, metadata: { ...moved.metadata, labels: { 'kuma.io/mesh': 'other' } } });
      await eventually(async () => expect(summary((await events(log)).slice(before.length))).toEqual(['delete MeshTimeout default timeout-1.kuma-system', 'upsert MeshTimeout other timeout-1.kuma-system']));
      fake.put(TIMEOUTS, timeout('timeout-1', '20s', 'helm'));
      await eventually(async () => expect(summary((await events(log)).slice(before.length + 2))).toEqual(['delete MeshTimeout other timeout-1.kuma-system', 'upsert MeshTimeout default timeout-1.kuma-system']));
    } finally {
      await again.stop();
    }
  });

  it('after a restart, appends exactly what changed while it was away, deletions included; two observers of one change append it once', async () => {
    fake.put(TIMEOUTS, timeout('timeout-1', '20s', 'helm'));
    fake.put(TIMEOUTS, timeout('keep', '5s'));
    fake.put(TIMEOUTS, timeout('goes', '6s'));
    const log = await openMemoryEventLog();
    const first = source(log);
    await first.start();
    await first.stop();
    const before = (await events(log)).length;

    fake.remove(TIMEOUTS, 'kuma-system', 'goes');
    fake.put(TIMEOUTS, timeout('keep', '7s'));
    fake.put(TIMEOUTS, timeout('new', '8s'));
    fake.compact();
    const a = source(log);
    const b = source(log);
    await Promise.all([a.start(), b.start()]);
    try {
      const after = (await events(log)).slice(before);
      expect(summary(after).sort()).toEqual(['delete MeshTimeout default goes.kuma-system', 'upsert MeshTimeout default keep.kuma-system', 'upsert MeshTimeout default new.kuma-system']);
      // A change both replicas watch: one event.
      fake.put(TIMEOUTS, timeout('new', '9s'));
      await eventually(async () => expect(JSON.stringify((await events(log)).at(-1))).toContain('9s'));
      await Promise.all([a.idle(), b.idle()]);
      await new Promise((r) => setTimeout(r, 200));
      expect((await events(log)).length).toBe(before + 4);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('on a shared log, reads what another replica appended before its own append, and never skips it', async () => {
    const log = await openMemoryEventLog();
    const s1 = source(log);
    await s1.start();
    try {
      const start = (await events(log)).length;
      // Another replica observed `foreign` first and appended it; this one has not seen it yet.
      const spec = timeout('foreign', '3s')['spec'];
      const now = new Date().toISOString();
      await log.append({ id: 'k8s:other-replica:1', time: now, actor: { subject: 'kubectl', source: 'kubernetes' }, op: 'upsert', type: 'MeshTimeout', mesh: 'default', name: 'foreign.kuma-system', resource: { labels: { 'kuma.io/mesh': 'default' }, spec: spec as never, creationTime: now, modificationTime: now } });
      // This replica appends something else: it must read `foreign` too, not jump over it.
      fake.put(TIMEOUTS, timeout('trigger', '4s'));
      await eventually(async () => expect(summary(await events(log)).at(-1)).toBe('upsert MeshTimeout default trigger.kuma-system'));
      // Then its own watch delivers `foreign`: it already holds it (no append, no conflict loop) ...
      fake.put(TIMEOUTS, timeout('foreign', '3s'));
      // ... and what follows still reaches the log.
      fake.put(TIMEOUTS, timeout('after', '5s'));
      await eventually(async () => expect(summary(await events(log)).at(-1)).toBe('upsert MeshTimeout default after.kuma-system'));
      await s1.idle();
      expect(summary((await events(log)).slice(start)).filter((x) => x.includes('foreign'))).toEqual(['upsert MeshTimeout default foreign.kuma-system']);
    } finally {
      await s1.stop();
    }
  });
});
