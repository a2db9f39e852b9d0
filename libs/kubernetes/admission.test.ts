import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fullRegistry } from '../policies/registry.ts';
import { CORE_KINDS, FakeKubeApiServer, kumaKinds, MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS, type KubeObject } from '../testkit/fake-kube-apiserver.ts';
import { InjectorWebhook, INJECTOR_PATH, ValidatingWebhook, VALIDATOR_PATH } from './admission.ts';
import { AdmissionServer } from './admission-server.ts';
import { defaultInjectorConfig } from './injector.ts';

/**
 * The admission webhooks over real HTTPS, called by the FAKE API server (a test double) as the
 * real one calls them: the CA the control plane generated is written into the webhook
 * configurations, Pods created through client-node come back injected, an invalid policy is
 * refused with Kuma's field paths and nothing is stored, a rotated serving certificate is used
 * without a restart, and a malformed review gets a 400 while the server stays up.
 */
const registry = fullRegistry();
const CONTROL_PLANE = 'system:serviceaccount:kuma-system:kuma-control-plane';
const kinds = [...CORE_KINDS, ...kumaKinds(registry.all())];
const kind = (plural: string) => kinds.find((k) => k.plural === plural)!;

let fake: FakeKubeApiServer;
let server: AdmissionServer;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;
let failurePolicy: 'Fail' | 'Ignore' = 'Fail';

function webhookConfigurations(port: number): void {
  const rules = (groups: string[], resources: string[], operations = ['CREATE', 'UPDATE']) => [{ apiGroups: groups, apiVersions: ['*'], resources, operations }];
  fake.put(MUTATING_WEBHOOKS, {
    metadata: { name: 'kuma-admission-mutating-webhook-configuration' },
    webhooks: [{ name: 'kuma-injector.kuma.io', clientConfig: { url: `https://127.0.0.1:${port}${INJECTOR_PATH}` }, rules: rules([''], ['pods'], ['CREATE']), failurePolicy, sideEffects: 'None', admissionReviewVersions: ['v1'] }],
  });
  fake.put(VALIDATING_WEBHOOKS, {
    metadata: { name: 'kuma-validating-webhook-configuration' },
    webhooks: [{ name: 'validator.kuma-admission.kuma.io', clientConfig: { url: `https://127.0.0.1:${port}${VALIDATOR_PATH}` }, rules: rules(['kuma.io'], ['*']), failurePolicy, sideEffects: 'None', admissionReviewVersions: ['v1'] }],
  });
}

beforeAll(async () => {
  fake = await FakeKubeApiServer.start(kinds);
  // These clients act as the control plane (the one user that may write Dataplanes).
  fake.users.set('fake-token', CONTROL_PLANE);
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions(fake.kubeconfig());
  core = kc.makeApiClient(k8s.CoreV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  fake.put(kind('meshes'), { metadata: { name: 'default' }, spec: {} });
  fake.put(kind('namespaces'), { metadata: { name: 'shop', labels: { 'kuma.io/sidecar-injection': 'enabled' } } });
  const logger = pino({ level: 'silent' });
  const injector = new InjectorWebhook(() => defaultInjectorConfig({ controlPlaneUrl: 'https://kuma-control-plane.kuma-system:5678' }), {
    namespace: async (n) => fake.get(kind('namespaces'), undefined, n) as k8s.V1Namespace | undefined,
    meshExists: async (m) => fake.get(kind('meshes'), undefined, m) !== undefined,
  }, logger);
  server = new AdmissionServer({
    address: '127.0.0.1',
    port: 0,
    certDir: '',
    serviceName: 'kuma-control-plane',
    namespace: 'kuma-system',
    webhookConfigurations: { mutating: ['kuma-admission-mutating-webhook-configuration'], validating: ['kuma-validating-webhook-configuration', 'not-installed'] },
    injector,
    validator: new ValidatingWebhook(registry, { dataplaneWriters: [CONTROL_PLANE] }),
    logger,
  });
  // Listening first: its port goes into the configurations, then the CA is published into them.
  await server.start();
  webhookConfigurations(server.port);
  await server.publishCa(kc);
  kubeconfig = kc;
});
let kubeconfig: k8s.KubeConfig;

afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

beforeEach(() => {
  failurePolicy = 'Fail';
});

const pod = (name: string, extra: Partial<KubeObject> = {}): k8s.V1Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'app:1' }] }, ...extra }) as k8s.V1Pod;

async function refusal(p: Promise<unknown>): Promise<{ code: number; body: { message: string; reason: string; details?: { causes?: { field: string; message: string }[] } } }> {
  const err = (await p.then(() => undefined, (e: unknown) => e)) as { code?: number; body?: string } | undefined;
  if (!err) throw new Error('expected the API server to refuse the request');
  return { code: err.code ?? 0, body: JSON.parse(err.body ?? '{}') as never };
}

describe('admission webhooks through the fake API server', () => {
  it('writes the generated CA into the caBundle of every configured webhook', () => {
    const bundle = Buffer.from(server.caCert).toString('base64');
    const mutating = fake.get(MUTATING_WEBHOOKS, undefined, 'kuma-admission-mutating-webhook-configuration') as { webhooks: { clientConfig: { caBundle?: string } }[] };
    const validating = fake.get(VALIDATING_WEBHOOKS, undefined, 'kuma-validating-webhook-configuration') as { webhooks: { clientConfig: { caBundle?: string } }[] };
    expect(mutating.webhooks[0]!.clientConfig.caBundle).toBe(bundle);
    expect(validating.webhooks[0]!.clientConfig.caBundle).toBe(bundle);
  });

  it('injects a Pod created in a labelled namespace; the API server stores the patched Pod', async () => {
    const created = await core.createNamespacedPod({ namespace: 'shop', body: pod('web') });
    expect(created.spec?.containers.map((c) => c.name)).toEqual(['kuma-sidecar', 'app']);
    expect(created.spec?.initContainers?.map((c) => c.name)).toEqual(['kuma-init']);
    expect(created.metadata?.annotations?.['kuma.io/sidecar-injected']).toBe('true');
    expect(created.metadata?.labels?.['kuma.io/mesh']).toBe('default');
    expect((fake.get(kind('pods'), 'shop', 'web')?.metadata?.['annotations'] as Record<string, string>)['kuma.io/transparent-proxying']).toBe('enabled');
  });

  it('gives a generated name after admission, as the real server does', async () => {
    const created = await core.createNamespacedPod({ namespace: 'shop', body: { ...pod(''), metadata: { generateName: 'web-', namespace: 'shop' } } });
    expect(created.metadata?.name).toMatch(/^web-[0-9a-f]{5}$/);
    expect(created.spec?.containers[0]!.name).toBe('kuma-sidecar');
  });

  it('refuses a Pod whose application runs as the sidecar UID, storing nothing', async () => {
    const r = await refusal(core.createNamespacedPod({ namespace: 'shop', body: pod('sneaky', { spec: { containers: [{ name: 'app', image: 'app:1', securityContext: { runAsUser: 5678 } }] } }) }));
    expect(r.code).toBe(400);
    expect(r.body.message).toBe('admission webhook "kuma-injector.kuma.io" denied the request: containers using same UID as sidecar is unsupported: ["app"] run as 5678, the sidecar\'s UID');
    expect(fake.get(kind('pods'), 'shop', 'sneaky')).toBeUndefined();
  });

  it('refuses an invalid policy with Kuma field paths and stores nothing; a valid one is stored', async () => {
    const body = (spec: unknown) => ({ apiVersion: 'kuma.io/v1alpha1', kind: 'MeshTimeout', metadata: { name: 'mt', namespace: 'kuma-system', labels: { 'kuma.io/mesh': 'default' } }, spec });
    const r = await refusal(
      custom.createNamespacedCustomObject({ group: 'kuma.io', version: 'v1alpha1', namespace: 'kuma-system', plural: 'meshtimeouts', body: body({ targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: 'soon' } }] }) }),
    );
    expect(r.code).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    expect(r.body.details?.causes?.map((c) => c.field)).toEqual(['spec.to[0].default.idleTimeout']);
    expect(r.body.message).toMatch(/^admission webhook "validator.kuma-admission.kuma.io" denied the request: spec.to\[0\].default.idleTimeout: /);
    expect(fake.get(kind('meshtimeouts'), 'kuma-system', 'mt')).toBeUndefined();
    await custom.createNamespacedCustomObject({ group: 'kuma.io', version: 'v1alpha1', namespace: 'kuma-system', plural: 'meshtimeouts', body: body({ targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: '30s' } }] }) });
    expect(fake.get(kind('meshtimeouts'), 'kuma-system', 'mt')).toBeDefined();
  });

  it('refuses an invalid Dataplane at spec paths, and a prototype key with its path', async () => {
    const dp = (spec: unknown) => ({ apiVersion: 'kuma.io/v1alpha1', kind: 'Dataplane', mesh: 'default', metadata: { name: 'dp', namespace: 'shop' }, spec });
    const bad = await refusal(custom.createNamespacedCustomObject({ group: 'kuma.io', version: 'v1alpha1', namespace: 'shop', plural: 'dataplanes', body: dp({ networking: { address: '10.0.0.1', inbound: [{ port: 99999, tags: { 'kuma.io/service': 'x' } }] } }) }));
    expect(bad.code).toBe(422);
    expect(bad.body.details?.causes?.[0]?.field).toMatch(/^spec\.networking\.inbound\[0\]\.port/);
    const proto = await refusal(
      custom.createNamespacedCustomObject({
        group: 'kuma.io',
        version: 'v1alpha1',
        namespace: 'shop',
        plural: 'dataplanes',
        body: JSON.parse('{"apiVersion":"kuma.io/v1alpha1","kind":"Dataplane","mesh":"default","metadata":{"name":"dp","namespace":"shop"},"spec":{"networking":{"address":"10.0.0.1","inbound":[{"port":80,"tags":{"__proto__":{"x":1}}}]}}}') as object,
      }),
    );
    expect(proto.code).toBe(422);
    expect(proto.body.details?.causes?.[0]?.field).toBe('spec.networking.inbound[0].tags.__proto__');
    expect(fake.get(kind('dataplanes'), 'shop', 'dp')).toBeUndefined();
  });

  it('refuses a Dataplane written by anyone but the control plane', async () => {
    fake.users.set('alice-token', 'alice');
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({ ...fake.kubeconfig(), users: [{ name: 'fake', token: 'alice-token' }] });
    const body = { apiVersion: 'kuma.io/v1alpha1', kind: 'Dataplane', mesh: 'default', metadata: { name: 'forged', namespace: 'shop', labels: { 'k8s.kuma.io/service-account': 'payments' } }, spec: { networking: { address: '10.0.0.9', inbound: [{ port: 80, tags: { 'kuma.io/service': 'payments_shop_svc_80' } }] } } };
    const r = await refusal(kc.makeApiClient(k8s.CustomObjectsApi).createNamespacedCustomObject({ group: 'kuma.io', version: 'v1alpha1', namespace: 'shop', plural: 'dataplanes', body }));
    expect(r.code).toBe(403);
    expect(r.body.message).toMatch(/Dataplanes are written by the control plane for the Pods it injects; "alice" may not create one/);
    expect(fake.get(kind('dataplanes'), 'shop', 'forged')).toBeUndefined();
  });

  it('admits a Pod whose labels are named constructor or prototype (valid Kubernetes keys)', async () => {
    const created = await core.createNamespacedPod({ namespace: 'shop', body: pod('odd-keys', { metadata: { name: 'odd-keys', namespace: 'shop', labels: { constructor: 'x', prototype: 'y' } } }) });
    expect(created.spec?.containers[0]!.name).toBe('kuma-sidecar');
  });

  it('rotates its serving certificate without a restart; the API server still trusts it', async () => {
    const before = server.rotations;
    const ca = server.caCert;
    const servingBefore = server.servingCert;
    await server.rotate();
    expect(server.caCert).toBe(ca);
    expect(server.servingCert).not.toBe(servingBefore);
    // A new connection (no session resumed) is served the new certificate.
    const served = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: server.port, ca: server.caCert, servername: 'localhost' }, () => {
        resolve(socket.getPeerX509Certificate()!.fingerprint256);
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(served).toBe(new X509Certificate(server.servingCert).fingerprint256);
    expect(server.rotations).toBe(before + 1);
    const created = await core.createNamespacedPod({ namespace: 'shop', body: pod('after-rotation') });
    expect(created.spec?.containers[0]!.name).toBe('kuma-sidecar');
  });

  it('answers a malformed review with 400 and stays up', async () => {
    const post = (body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: server.port, path: INJECTOR_PATH, method: 'POST', ca: server.caCert, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
    expect(await post('{not json')).toBe(400);
    expect(await post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'DESTROY', kind: { group: '', version: 'v1', kind: 'Pod' } } }))).toBe(400);
    expect(await post('['.repeat(5000) + ']'.repeat(5000))).toBe(400);
    const created = await core.createNamespacedPod({ namespace: 'shop', body: pod('still-up') });
    expect(created.spec?.containers[0]!.name).toBe('kuma-sidecar');
  });

  it('with failurePolicy Fail a webhook that is down refuses the Pod; with Ignore it is admitted as it came', async () => {
    const port = server.port;
    await server.stop();
    try {
      const r = await refusal(core.createNamespacedPod({ namespace: 'shop', body: pod('while-down') }));
      expect(r.code).toBe(500);
      expect(r.body.message).toMatch(/failed calling webhook "kuma-injector.kuma.io"/);
      failurePolicy = 'Ignore';
      webhookConfigurations(port);
      const created = await core.createNamespacedPod({ namespace: 'shop', body: pod('while-down') });
      expect(created.spec?.containers.map((c) => c.name)).toEqual(['app']);
    } finally {
      await server.start();
      webhookConfigurations(server.port);
      await server.publishCa(kubeconfig);
    }
  });
});
