import { X509Certificate } from 'node:crypto';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CHART_TEMPLATE, CHART_VALUES, CRD_DIR, generateChartTemplate } from '../../deploy/kubernetes/generate.ts';
import { InjectorWebhook, ValidatingWebhook } from '../../libs/kubernetes/admission.ts';
import { AdmissionServer } from '../../libs/kubernetes/admission-server.ts';
import { defaultInjectorConfig } from '../../libs/kubernetes/injector.ts';
import { controlPlaneManifests, crds } from '../../libs/kubernetes/install.ts';
import { fullRegistry } from '../../libs/policies/registry.ts';
import { CORE_KINDS, FakeKubeApiServer, kumaKinds, MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS, type KubeObject } from '../../libs/testkit/fake-kube-apiserver.ts';
import { kumactlWithConfig } from '../../libs/testkit/kumactl.ts';

/**
 * `kumactl install crds` and `kumactl install control-plane` (run as a user runs them) print
 * what a cluster needs; the webhook configurations they print, installed in the FAKE API server
 * (a test double) with the certificate they generated mounted as the admission server's certDir,
 * make the API server call the webhooks through the Service and trust them: a Pod is injected.
 * The Helm chart (deploy/kubernetes/chart) renders the same objects. No helm binary is on these
 * machines: its template uses only `{{ .Release.Namespace }}` and `{{ .Values.x.y }}`, which the
 * test substitutes as Helm does, and fails on any other template syntax.
 */
type Obj = KubeObject & { kind: string; metadata: { name: string; namespace?: string } };
let objects: Obj[];
let home: string;

const kumactl = (args: string[]) => kumactlWithConfig(join(home, 'none.yaml'), home, args);
const find = (kind: string, name?: string) => objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name))!;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'kumactl-install-'));
  const r = await kumactl(['install', 'control-plane']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
}, 30_000);

describe('kumactl install', () => {
  it('crds prints every CRD, as committed', async () => {
    const r = await kumactl(['install', 'crds']);
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
    expect(docs.map((d) => d.metadata.name)).toEqual(crds().map((c) => (c as Obj).metadata.name));
    expect(docs.map((d) => d.metadata.name)).toContain('meshtrafficpermissions.kuma.io');
  });

  it('control-plane prints the namespace, CRDs, RBAC, Deployment, Service and webhooks, in apply order', () => {
    const kinds = objects.map((o) => o.kind);
    expect(kinds[0]).toBe('Namespace');
    expect(kinds.filter((k) => k === 'CustomResourceDefinition')).toHaveLength(crds().length);
    expect([...new Set(kinds)]).toEqual(['Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Secret', 'Service', 'Deployment', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
    const env = (find('Deployment') as unknown as { spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } } }).spec.template.spec.containers[0]!.env;
    expect(Object.fromEntries(env.map((e) => [e.name, e.value]))).toMatchObject({ KUMA_STORE_TYPE: 'kubernetes', KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_PORT: '5443' });
  });

  it('grants the control plane what it calls: secrets in its namespace only, and only the webhooks it keeps current', () => {
    const rules = (find('ClusterRole') as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[] }).rules;
    const may = (group: string, resource: string, verb: string) => rules.some((r) => r.apiGroups.includes(group) && (r.resources.includes(resource) || r.resources.includes('*')) && r.verbs.includes(verb));
    for (const [g, res, verb] of [
      ['', 'pods', 'watch'], ['', 'services', 'list'], ['', 'namespaces', 'get'], ['', 'nodes', 'list'], ['apps', 'replicasets', 'watch'], ['', 'events', 'create'],
      ['kuma.io', 'dataplanes', 'create'], ['kuma.io', 'meshes', 'create'], ['kuma.io', 'meshtimeouts', 'watch'], ['authentication.k8s.io', 'tokenreviews', 'create'],
      ['admissionregistration.k8s.io', 'mutatingwebhookconfigurations', 'update'],
    ] as const) expect(may(g, res, verb), `${g}/${res} ${verb}`).toBe(true);
    // Secrets: only in the system namespace (a Role), never cluster-wide.
    expect(may('', 'secrets', 'get')).toBe(false);
    const role = find('Role') as unknown as { metadata: { namespace: string }; rules: { resources: string[]; verbs: string[] }[] };
    expect(role.metadata.namespace).toBe('kuma-system');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
    expect(rules.find((r) => r.apiGroups.includes('admissionregistration.k8s.io'))!.resourceNames).toEqual(['kuma-admission-mutating-webhook-configuration', 'kuma-validating-webhook-configuration']);
  });

  it('generates a certificate for the Service that the webhooks trust', () => {
    const secret = find('Secret', 'kuma-tls-cert') as unknown as { data: Record<string, string> };
    const cert = new X509Certificate(Buffer.from(secret.data['tls.crt']!, 'base64'));
    const ca = new X509Certificate(Buffer.from(secret.data['ca.crt']!, 'base64'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain('DNS:kuma-control-plane.kuma-system.svc');
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      const hooks = (find(kind) as unknown as { webhooks: { clientConfig: { caBundle: string; service: { name: string; port: number } } }[] }).webhooks;
      for (const h of hooks) {
        expect(h.clientConfig.caBundle).toBe(secret.data['ca.crt']);
        expect(h.clientConfig.service).toMatchObject({ name: 'kuma-control-plane', port: 443 });
      }
    }
  });

  it('refuses a namespace that is not a DNS label', async () => {
    const r = await kumactl(['install', 'control-plane', '--namespace', 'Not_Valid']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--namespace: "Not_Valid" is not a valid namespace name/);
    expect(r.stdout).toBe('');
  });

  it('the Helm chart is current and renders what install control-plane prints (its own certificate, CRDs in crds/)', async () => {
    const template = readFileSync(CHART_TEMPLATE, 'utf8');
    expect(template).toBe(await generateChartTemplate());
    const values = parse(readFileSync(join(CHART_TEMPLATE, '..', '..', 'values.yaml'), 'utf8')) as Record<string, Record<string, string>>;
    const known = new Map<string, string>([['{{ .Release.Namespace }}', 'kuma-system']]);
    for (const [, expression] of CHART_VALUES) {
      const m = /^\{\{ \.Values\.(\w+)\.(\w+) \}\}$/.exec(expression);
      if (m) known.set(expression, values[m[1]!]![m[2]!]!);
    }
    const rendered = template.replace(/\{\{[^}]*\}\}/g, (e) => {
      const v = known.get(e);
      if (v === undefined) throw new Error(`the chart uses ${e}, which this test does not render`);
      return v;
    });
    expect(rendered).not.toMatch(/\{\{|\}\}/);
    const want = await controlPlaneManifests({ namespace: 'kuma-system', controlPlaneImage: values['controlPlane']!['image']!, dataplaneImage: values['dataPlane']!['image']!, initImage: values['dataPlane']!['initImage']!, tls: 'control-plane', withNamespaceAndCrds: false });
    expect(parseAllDocuments(rendered).map((d) => d.toJS())).toEqual(want);
    expect(readdirSync(join(CHART_TEMPLATE, '..', '..', 'crds')).filter((f) => f.endsWith('.yaml'))).toEqual(readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')));
  });

  describe('installed in the fake API server', () => {
    let fake: FakeKubeApiServer;
    let server: AdmissionServer;
    beforeAll(async () => {
      const registry = fullRegistry();
      fake = await FakeKubeApiServer.start([...CORE_KINDS, ...kumaKinds(registry.all())]);
      const certDir = join(home, 'tls-cert');
      mkdirSync(certDir);
      const secret = find('Secret', 'kuma-tls-cert') as unknown as { data: Record<string, string> };
      for (const f of ['tls.crt', 'tls.key']) writeFileSync(join(certDir, f), Buffer.from(secret.data[f]!, 'base64'));
      const kinds = [...CORE_KINDS, ...kumaKinds(registry.all())];
      const kind = (plural: string) => kinds.find((k) => k.plural === plural)!;
      fake.put(kind('meshes'), { metadata: { name: 'default' }, spec: {} });
      fake.put(kind('namespaces'), { metadata: { name: 'shop', labels: { 'kuma.io/sidecar-injection': 'enabled', 'kubernetes.io/metadata.name': 'shop' } } });
      const logger = pino({ level: 'silent' });
      server = new AdmissionServer({
        address: '127.0.0.1',
        port: 0,
        certDir,
        serviceName: 'kuma-control-plane',
        namespace: 'kuma-system',
        webhookConfigurations: { mutating: [], validating: [] },
        injector: new InjectorWebhook(() => defaultInjectorConfig(), { namespace: async (n) => fake.get(kind('namespaces'), undefined, n) as k8s.V1Namespace, meshExists: async () => true }, logger),
        validator: new ValidatingWebhook(registry, { dataplaneWriters: ['system:serviceaccount:kuma-system:kuma-control-plane'] }),
        logger,
      });
      await server.start();
      fake.serviceEndpoints.set('kuma-system/kuma-control-plane:443', `127.0.0.1:${server.port}`);
      fake.put(MUTATING_WEBHOOKS, find('MutatingWebhookConfiguration'));
      fake.put(VALIDATING_WEBHOOKS, find('ValidatingWebhookConfiguration'));
    });
    afterAll(async () => {
      await server?.stop();
      await fake?.close();
    });

    it('makes the API server call the injector through the Service, trusting the generated CA', async () => {
      const kc = new k8s.KubeConfig();
      kc.loadFromOptions(fake.kubeconfig());
      const created = await kc.makeApiClient(k8s.CoreV1Api).createNamespacedPod({ namespace: 'shop', body: { metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'web:1' }] } } });
      expect(created.spec?.containers.map((c) => c.name)).toEqual(['kuma-sidecar', 'web']);
      expect(fake.admissionRequests.map((r) => r.webhook)).toEqual(['kuma-injector.kuma.io']);
    });

    it('sends the injector only Pods that ask for a sidecar: never others, never the system namespace', async () => {
      const kc = new k8s.KubeConfig();
      kc.loadFromOptions(fake.kubeconfig());
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const ns = (name: string, labels: Record<string, string> = {}) => fake.put(CORE_KINDS.find((k) => k.plural === 'namespaces')!, { metadata: { name, labels } });
      ns('tools');
      ns('kuma-system', { 'kuma.io/sidecar-injection': 'enabled' });
      const before = fake.admissionRequests.length;
      const pod = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels }, spec: { containers: [{ name: 'app', image: 'app:1' }] } });
      // Neither the Pod nor its namespace asks: the injector is not even asked (a control plane that is down does not stop it).
      expect((await core.createNamespacedPod({ namespace: 'tools', body: pod('plain') })).spec?.containers.map((c) => c.name)).toEqual(['app']);
      // A Pod that opts out in a labelled namespace, and anything in the system namespace: not asked either.
      expect((await core.createNamespacedPod({ namespace: 'shop', body: pod('opted-out', { 'kuma.io/sidecar-injection': 'disabled' }) })).spec?.containers.map((c) => c.name)).toEqual(['app']);
      expect((await core.createNamespacedPod({ namespace: 'kuma-system', body: pod('cp-helper') })).spec?.containers.map((c) => c.name)).toEqual(['app']);
      expect(fake.admissionRequests.length).toBe(before);
      // A Pod labelled itself, in a namespace that is not: through the second webhook.
      expect((await core.createNamespacedPod({ namespace: 'tools', body: pod('opted-in', { 'kuma.io/sidecar-injection': 'true' }) })).spec?.containers.map((c) => c.name)).toEqual(['kuma-sidecar', 'app']);
      expect(fake.admissionRequests.slice(before).map((r) => r.webhook)).toEqual(['kuma-injector-pods.kuma.io']);
    });
  });
});
