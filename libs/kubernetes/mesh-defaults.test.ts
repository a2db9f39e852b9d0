import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../event-log/event.ts';
import { openMemoryEventLog } from '../event-log/memory.ts';
import type { EventLog } from '../event-log/port.ts';
import { fullRegistry } from '../policies/registry.ts';
import { eventually } from '../testkit/eventually.ts';
import { CORE_KINDS, FakeKubeApiServer, kumaKinds, type KubeObject } from '../testkit/fake-kube-apiserver.ts';
import { KubernetesLogSource } from './log-source.ts';
import { DEFAULTS_GENERATED, MeshDefaultsController } from './mesh-defaults.ts';

/**
 * What a Mesh applied with kubectl brings, against the FAKE API server (a test double): Kuma's
 * default policies once (as custom resources in the system namespace), its builtin CA as Kubernetes
 * Secrets, and, through the log source, both in the log (the Secrets as the log's Secrets).
 */
const registry = fullRegistry();
const kinds = [...CORE_KINDS, ...kumaKinds(registry.all())];
const kind = (plural: string) => kinds.find((k) => k.plural === plural)!;
const logger = pino({ level: 'silent' });

let fake: FakeKubeApiServer;
let kc: k8s.KubeConfig;
let controller: MeshDefaultsController;

beforeAll(async () => {
  fake = await FakeKubeApiServer.start(kinds);
  kc = new k8s.KubeConfig();
  kc.loadFromOptions(fake.kubeconfig());
  controller = new MeshDefaultsController(kc, { logger, systemNamespace: 'kuma-system', registry, retryMs: 50 });
  await controller.start();
});
afterAll(async () => {
  await controller?.stop();
  await fake?.close();
});

const secretNames = () => fake.list(kind('secrets')).map((s) => s.metadata!.name!).sort();
async function events(log: EventLog): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of log.read(1)) out.push(e);
  return out;
}

describe('a Mesh on Kubernetes brings its defaults and CA', () => {
  it("writes Kuma's default policies once, and the builtin CA's Secrets; the log source takes both into the log", async () => {
    fake.put(kind('meshes'), { metadata: { name: 'payments' }, spec: { mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } } });
    await eventually(async () => expect(fake.get(kind('meshes'), undefined, 'payments')?.metadata?.['annotations']).toEqual({ [DEFAULTS_GENERATED]: 'true' }));
    await controller.idle();
    const policies = ['meshtimeouts', 'meshcircuitbreakers', 'meshretries'].flatMap((p) => fake.list(kind(p)).map((o) => `${o.kind} ${o.metadata!.namespace}/${o.metadata!.name}`));
    expect(policies.sort()).toEqual(['MeshCircuitBreaker kuma-system/mesh-circuit-breaker-all-payments', 'MeshRetry kuma-system/mesh-retry-all-payments', 'MeshTimeout kuma-system/mesh-gateways-timeout-all-payments', 'MeshTimeout kuma-system/mesh-timeout-all-payments']);
    expect(secretNames()).toEqual(['payments.ca-builtin-cert-ca-1', 'payments.ca-builtin-key-ca-1']);
    const cert = fake.get(kind('secrets'), 'kuma-system', 'payments.ca-builtin-cert-ca-1') as KubeObject & { type: string; data: { value: string } };
    expect(cert.type).toBe('system.kuma.io/secret');
    expect(new X509Certificate(Buffer.from(Buffer.from(cert.data.value, 'base64').toString(), 'utf8')).ca).toBe(true);

    const log = await openMemoryEventLog();
    const source = new KubernetesLogSource(kc, log, registry, { logger, secretsNamespace: 'kuma-system', retryMs: 50 });
    await source.start();
    try {
      const summary = (await events(log)).map((e) => `${e.type} ${e.mesh ?? '-'} ${e.name}`).sort();
      expect(summary).toEqual([
        'Mesh - payments',
        'MeshCircuitBreaker payments mesh-circuit-breaker-all-payments.kuma-system',
        'MeshRetry payments mesh-retry-all-payments.kuma-system',
        'MeshTimeout payments mesh-gateways-timeout-all-payments.kuma-system',
        'MeshTimeout payments mesh-timeout-all-payments.kuma-system',
        'Secret payments payments.ca-builtin-cert-ca-1',
        'Secret payments payments.ca-builtin-key-ca-1',
      ]);
      const secret = (await events(log)).find((e) => e.name === 'payments.ca-builtin-cert-ca-1')!;
      expect(secret.op === 'upsert' && secret.resource.spec).toEqual({ data: cert.data.value });
      // A Kubernetes Secret of another type is not Kuma's; deleting a Kuma Secret deletes it in the log.
      fake.put(kind('secrets'), { metadata: { name: 'tls', namespace: 'kuma-system' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } } as KubeObject);
      fake.put(kind('secrets'), { metadata: { name: 'api-key', namespace: 'kuma-system', labels: { 'kuma.io/mesh': 'payments' } }, type: 'system.kuma.io/secret', data: { value: 'c2VjcmV0' } } as KubeObject);
      await eventually(async () => expect((await events(log)).at(-1)?.name).toBe('api-key'));
      fake.remove(kind('secrets'), 'kuma-system', 'api-key');
      await eventually(async () => expect((await events(log)).at(-1)?.op).toBe('delete'));
      await source.idle();
      expect((await events(log)).map((e) => e.name)).not.toContain('tls');
    } finally {
      await source.stop();
    }
  });

  it('leaves a deleted default deleted, and makes a deleted CA again', async () => {
    fake.remove(kind('meshretries'), 'kuma-system', 'mesh-retry-all-payments');
    fake.remove(kind('secrets'), 'kuma-system', 'payments.ca-builtin-key-ca-1');
    // The pair is made again (a certificate without its key is no CA); the default is not.
    await eventually(async () => expect(secretNames()).toContain('payments.ca-builtin-key-ca-1'));
    await controller.idle();
    expect(fake.get(kind('meshretries'), 'kuma-system', 'mesh-retry-all-payments')).toBeUndefined();
    const pem = (n: string) => Buffer.from((fake.get(kind('secrets'), 'kuma-system', n) as KubeObject & { data: { value: string } }).data.value, 'base64').toString();
    const cert = new X509Certificate(pem('payments.ca-builtin-cert-ca-1'));
    expect(cert.checkPrivateKey(createPrivateKey(pem('payments.ca-builtin-key-ca-1')))).toBe(true);
    // The certificate lost instead: the pair is made again, and belongs together.
    const oldCert = pem('payments.ca-builtin-cert-ca-1');
    fake.remove(kind('secrets'), 'kuma-system', 'payments.ca-builtin-cert-ca-1');
    await eventually(async () => expect(secretNames()).toContain('payments.ca-builtin-cert-ca-1'));
    await controller.idle();
    const remade = new X509Certificate(pem('payments.ca-builtin-cert-ca-1'));
    expect(remade.toString()).not.toBe(new X509Certificate(oldCert).toString());
    expect(remade.checkPrivateKey(createPrivateKey(pem('payments.ca-builtin-key-ca-1')))).toBe(true);
  });

  it('honours skipCreatingInitialPolicies, and reports a provided CA whose Secret is missing as an Event', async () => {
    fake.put(kind('meshes'), { metadata: { name: 'bare' }, spec: { skipCreatingInitialPolicies: ['*'], mtls: { enabledBackend: 'p', backends: [{ name: 'p', type: 'provided', conf: { cert: { secret: 'nope' }, key: { secret: 'nope-key' } } }] } } });
    await eventually(async () => expect(fake.get(kind('meshes'), undefined, 'bare')?.metadata?.['annotations']).toEqual({ [DEFAULTS_GENERATED]: 'true' }));
    await controller.idle();
    expect(fake.list(kind('meshtimeouts')).filter((o) => (o.metadata?.labels ?? {})['kuma.io/mesh'] === 'bare')).toEqual([]);
    const event = fake.list(kind('events')).find((e) => (e['involvedObject'] as { name?: string }).name === 'bare') as KubeObject & { reason: string; message: string };
    expect(event.reason).toBe('CANotReady');
    expect(event.message).toMatch(/secret "nope" does not exist in mesh "bare"/);
  });
});
