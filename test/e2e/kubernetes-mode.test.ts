import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INJECTOR_PATH, VALIDATOR_PATH } from '../../libs/kubernetes/admission.ts';
import { fullRegistry } from '../../libs/policies/registry.ts';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { eventually } from '../../libs/testkit/eventually.ts';
import { CORE_KINDS, FakeKubeApiServer, kumaKinds, MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS, type KubeObject } from '../../libs/testkit/fake-kube-apiserver.ts';
import { xdsGreeterClientFromBootstrap } from '../../libs/testkit/grpc-apps.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess, REPO_ROOT } from '../../libs/testkit/kuma-cp.ts';
import { spawnKumaDp, until } from '../../libs/testkit/kuma-dp.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';

/**
 * Kubernetes mode end to end, against the FAKE API server (libs/testkit/fake-kube-apiserver.ts,
 * a test double: no real cluster is used): kuma-cp with KUMA_STORE_TYPE=kubernetes creates the
 * default Mesh object, turns an injected Pod behind a Service into a Dataplane object, takes that
 * into its log and serves its configuration to a fake Envoy that presents the Pod's service
 * account token; a MeshTimeout applied as kubectl would apply it changes that configuration; the
 * REST API refuses writes. Through the admission webhooks the fake API server calls: a Pod
 * created bare in a labelled namespace comes back injected, and the sidecar container the
 * injector wrote, run as written (a real `kuma-dp run --proxyless`), serves a real proxyless gRPC
 * application in it; an invalid policy is refused with Kuma's field paths.
 */
const kinds = [...CORE_KINDS, ...kumaKinds(fullRegistry().all())];
const kind = (plural: string) => kinds.find((k) => k.plural === plural)!;

let fake: FakeKubeApiServer;
let cp: KumaCpProcess;
let envoy: FakeEnvoy | undefined;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  fake = await FakeKubeApiServer.start(kinds);
  dir = mkdtempSync(join(tmpdir(), 'k8s-mode-'));
  // What `kumactl install control-plane` installs: the webhook configurations (the control plane writes their caBundle).
  const admissionPort = await freePort();
  const webhook = (name: string, path: string, rules: unknown[]) => ({ name, clientConfig: { url: `https://127.0.0.1:${admissionPort}${path}` }, rules, failurePolicy: 'Fail', sideEffects: 'None', admissionReviewVersions: ['v1'] });
  fake.put(MUTATING_WEBHOOKS, {
    metadata: { name: 'kuma-admission-mutating-webhook-configuration' },
    webhooks: [webhook('kuma-injector.kuma.io', INJECTOR_PATH, [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }])],
  });
  fake.put(VALIDATING_WEBHOOKS, {
    metadata: { name: 'kuma-validating-webhook-configuration' },
    webhooks: [webhook('validator.kuma-admission.kuma.io', VALIDATOR_PATH, [{ apiGroups: ['kuma.io'], apiVersions: ['v1alpha1'], resources: ['*'], operations: ['CREATE', 'UPDATE'] }])],
  });
  const kubeconfig = fake.kubeconfigFile(dir);
  // The control plane's kubeconfig token is its service account (the only writer of Dataplanes).
  fake.users.set('fake-token', 'system:serviceaccount:kuma-system:kuma-control-plane');
  cp = await KumaCpProcess.start({
    plaintext: true,
    env: { KUMA_STORE_TYPE: 'kubernetes', KUBECONFIG: kubeconfig, KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_ADDRESS: '127.0.0.1', KUMA_RUNTIME_KUBERNETES_ADMISSION_SERVER_PORT: String(admissionPort) },
  });
}, 60_000);

afterAll(async () => {
  for (const c of children) {
    try {
      // The whole group (kuma-dp's and the application's children too).
      if (c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }
  envoy?.close();
  await cp?.destroy();
  await fake?.close();
});

describe('Kubernetes mode (kuma-cp against the fake API server)', () => {
  it('creates the default Mesh as an object, and refuses REST writes, naming kubectl, storing nothing', async () => {
    // Written by the leader once elected (a Lease in the system namespace).
    await eventually(async () => expect(fake.get(kind('meshes'), undefined, 'default')).toBeDefined());
    expect((fake.get(kind('leases'), 'kuma-system', 'cp-leader-lease')?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity).toMatch(/.+/);
    await eventually(async () => expect((await http(cp.url, 'GET', '/meshes/default')).status).toBe(200));
    // Its default policies, written to the cluster in the system namespace, come back into the log.
    await eventually(async () => expect((await http(cp.url, 'GET', '/meshes/default/meshtimeouts/mesh-timeout-all-default.kuma-system')).status).toBe(200), 20_000);
    // The Mesh is marked after its defaults are written.
    await eventually(async () => expect(fake.get(kind('meshes'), undefined, 'default')?.metadata?.['annotations']).toEqual({ 'kuma.io/mesh-defaults-generated': 'true' }));
    const put = await http(cp.url, 'PUT', '/meshes/default/meshtimeouts/mt-rest', { type: 'MeshTimeout', mesh: 'default', name: 'mt-rest', spec: { targetRef: { kind: 'Mesh' } } });
    expect(put.status).toBe(405);
    expect(JSON.stringify(put.body)).toMatch(/kubectl apply/);
    expect((await http(cp.url, 'GET', '/meshes/default/meshtimeouts/mt-rest')).status).toBe(404);
  });

  it("turns an injected Pod behind a Service into a Dataplane, serves it, and follows a MeshTimeout applied as kubectl would", async () => {
    fake.put(kind('namespaces'), { metadata: { name: 'shop', labels: { 'kuma.io/sidecar-injection': 'enabled' } } });
    fake.put(kind('services'), { metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http', appProtocol: 'http' }] } });
    fake.put(kind('pods'), {
      metadata: { name: 'web-1', namespace: 'shop', labels: { app: 'web' }, annotations: { 'kuma.io/sidecar-injected': 'true' } },
      spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }, { name: 'kuma-sidecar' }] },
      status: { podIP: '10.0.0.7', containerStatuses: [{ name: 'app', ready: true }, { name: 'kuma-sidecar', ready: true }] },
    });
    // The Dataplane object the controller wrote, and the same in the log under Kuma's core name.
    await eventually(async () => expect(fake.get(kind('dataplanes'), 'shop', 'web-1')).toBeDefined());
    const dp = await eventually(async () => {
      const r = await http(cp.url, 'GET', '/meshes/default/dataplanes/web-1.shop');
      expect(r.status).toBe(200);
      return r.body as { networking: { inbound: { port: number; tags: Record<string, string> }[] } };
    });
    expect(dp.networking.inbound.map((i) => [i.port, i.tags['kuma.io/service'], i.tags['kuma.io/protocol']])).toEqual([[8080, 'web_shop_svc_80', 'http']]);
    const history = await http(cp.url, 'GET', '/meshes/default/dataplanes/web-1.shop/_history');
    expect(JSON.stringify(history.body)).toContain('"source":"kubernetes"');

    // A proxy must present its Pod's service account token (TokenReview): another namespace's is refused.
    const intruder = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: 'default.web-1.shop', mode: 'sotw', token: fake.serviceAccountToken('other', 'default') });
    await expect(intruder.waitFor(() => false, 10_000)).rejects.toThrow(/namespace other, but Dataplane default.web-1.shop belongs to namespace shop/);
    intruder.close();
    const proxy = (envoy = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: 'default.web-1.shop', mode: 'sotw', token: fake.serviceAccountToken('shop', 'default') }));
    await proxy.waitFor((c) => c.names(TypeUrl.Listener).some((n) => n.startsWith('inbound:10.0.0.7:8080')), 20_000).catch((e: Error) => {
      throw new Error(`${e.message}: listeners ${JSON.stringify(proxy.names(TypeUrl.Listener))}`);
    });

    // The inbound's local cluster the proxy holds changes, and carries the 7 s idle timeout (Kuma
    // puts an HTTP inbound's idleTimeout on the cluster, none on the listener).
    const inboundVersion = (c: FakeEnvoy) => c.resources.get(TypeUrl.Cluster)?.get('localhost:8080')?.version;
    const before = inboundVersion(proxy);
    // kubectl apply of a MeshTimeout: a POST of the object to the API server.
    const res = await fake.kubectlCreate('/apis/kuma.io/v1alpha1/namespaces/kuma-system/meshtimeouts', {
      apiVersion: 'kuma.io/v1alpha1',
      kind: 'MeshTimeout',
      metadata: { name: 'inbound-idle', namespace: 'kuma-system', labels: { 'kuma.io/mesh': 'default' } },
      spec: { targetRef: { kind: 'Mesh' }, from: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: '7s' } }] },
    });
    expect(res.status).toBe(201);
    await eventually(async () => expect((await http(cp.url, 'GET', '/meshes/default/meshtimeouts/inbound-idle.kuma-system')).status).toBe(200));
    await proxy.waitFor((c) => inboundVersion(c) !== before, 20_000);
    const config = await http(cp.url, 'GET', '/meshes/default/dataplanes/web-1.shop/_config');
    const local = (config.body as { xds: Record<string, Record<string, { typed_extension_protocol_options: Record<string, { common_http_protocol_options: unknown }> }>> }).xds[TypeUrl.Cluster]!['localhost:8080']!;
    expect(local.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']!.common_http_protocol_options).toMatchObject({ idle_timeout: { seconds: 7 } });
    // A Pod deleted: its Dataplane object and the log's Dataplane go.
    fake.remove(kind('pods'), 'shop', 'web-1');
    await eventually(async () => expect((await http(cp.url, 'GET', '/meshes/default/dataplanes/web-1.shop')).status).toBe(404));
  });

  it('injects a Pod created bare in a labelled namespace, and the sidecar it wrote serves a proxyless gRPC application', async () => {
    const port = await freePort();
    fake.put(kind('services'), { metadata: { name: 'greeter', namespace: 'shop' }, spec: { selector: { app: 'greeter' }, ports: [{ port: 50051, targetPort: 'grpc', appProtocol: 'grpc' }] } });
    // kubectl apply of a bare Pod: the API server asks the injector.
    const res = await fake.kubectlCreate('/api/v1/namespaces/shop/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'greeter-0', labels: { app: 'greeter', 'kuma.io/proxyless': 'true' } },
      spec: { serviceAccountName: 'greeter', containers: [{ name: 'greeter', image: 'greeter:1', ports: [{ name: 'grpc', containerPort: port }] }] },
    });
    expect(res.status).toBe(201);
    const pod = (await res.json()) as V1Pod;
    expect(pod.metadata?.annotations?.['kuma.io/sidecar-injected']).toBe('true');
    const sidecar = pod.spec!.initContainers!.find((c) => c.name === 'kuma-sidecar')!;
    const app = pod.spec!.containers.find((c) => c.name === 'greeter')!;
    expect(sidecar.args).toContain('--proxyless');
    expect(app.env?.find((e) => e.name === 'GRPC_XDS_BOOTSTRAP')?.value).toBe('/var/run/kuma-grpc/bootstrap.json');

    // The kubelet: the Pod runs at 127.0.0.1 and is ready; the controller writes its Dataplane.
    fake.put(kind('pods'), { ...(fake.get(kind('pods'), 'shop', 'greeter-0') as KubeObject), status: { podIP: '127.0.0.1', containerStatuses: [{ name: 'greeter', ready: true }] } });
    await eventually(async () => expect((await http(cp.url, 'GET', '/meshes/default/dataplanes/greeter-0.shop')).status).toBe(200), 20_000);

    // The sidecar container as written, with what the kubelet resolves: the downward API, the
    // projected token, the volume; and the Service's DNS name resolved to this machine.
    const bootstrap = join(dir, 'greeter-bootstrap.json');
    const tokenFile = join(dir, 'greeter-token');
    writeFileSync(tokenFile, fake.serviceAccountToken('shop', 'greeter'));
    const env = containerEnv(sidecar, pod, {
      KUMA_CONTROL_PLANE_URL: `https://localhost:${cp.dpPort}`,
      KUMA_DATAPLANE_RUNTIME_TOKEN_PATH: tokenFile,
    });
    expect(env['KUMA_CONTROL_PLANE_CA_CERT']).toBe(readFileSync(cp.caCertFile, 'utf8'));
    const args = sidecar.args!.map((a) => a.replace('/var/run/kuma-grpc/bootstrap.json', bootstrap)).filter((a) => a !== 'run');
    const agent = spawnKumaDp(cp, dir, args, env);
    children.push(agent);
    await until(() => existsSync(bootstrap), 20_000, () => `the gRPC bootstrap (${agent.output()})`);
    // The application container, with its GRPC_XDS_BOOTSTRAP.
    const greeter = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(REPO_ROOT, 'test/e2e/fixtures/greeter-app.ts'), String(port), 'greeter-0'], {
      env: { PATH: process.env['PATH'] ?? '', GRPC_XDS_BOOTSTRAP: bootstrap },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: tsx runs the application in a child, which must go with it.
      detached: true,
    });
    children.push(greeter);
    let out = '';
    greeter.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    greeter.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('greeter greeter-0 serving on'), 40_000, () => `the greeter serving (${out}\n--- kuma-dp ---\n${agent.output()})`);
    await until(async () => {
      const client = xdsGreeterClientFromBootstrap(readFileSync(bootstrap, 'utf8'), 'greeter_shop_svc_50051');
      try {
        return (await client.hello().catch(() => '')) === 'hello from greeter-0';
      } finally {
        client.close();
      }
    }, 30_000, () => `a call through the mesh (${agent.output()})`);
  }, 120_000);

  it('keeps its generated data plane server certificate in the cluster: a restart serves the same one', async () => {
    const secret = fake.get(kind('secrets'), 'kuma-system', 'kuma-cp-dp-server-tls') as (KubeObject & { data: Record<string, string> }) | undefined;
    expect(secret).toBeDefined();
    const served = readFileSync(cp.caCertFile, 'utf8');
    expect(Buffer.from(secret!.data['tls.crt']!, 'base64').toString()).toBe(served);
    // Its work directory lost (a new Pod): it takes the certificate from the Secret again.
    await cp.stop();
    rmSync(cp.caCertFile);
    rmSync(cp.caCertFile.replace(/\.crt$/, '.key'));
    await cp.restart();
    expect(readFileSync(cp.caCertFile, 'utf8')).toBe(served);
  }, 60_000);

  it('refuses an invalid policy applied with kubectl, with Kuma field paths, storing nothing', async () => {
    const res = await fake.kubectlCreate('/apis/kuma.io/v1alpha1/namespaces/kuma-system/meshretries', {
      apiVersion: 'kuma.io/v1alpha1',
      kind: 'MeshRetry',
      metadata: { name: 'bad-retry', namespace: 'kuma-system', labels: { 'kuma.io/mesh': 'default' } },
      spec: { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { http: { numRetries: -1 } } }] },
    });
    expect(res.status).toBe(422);
    const status = (await res.json()) as { message: string; details: { causes: { field: string }[] } };
    expect(status.details.causes.map((c) => c.field)).toEqual(['spec.to[0].default.http.numRetries']);
    expect(status.message).toMatch(/^admission webhook "validator.kuma-admission.kuma.io" denied the request: spec.to\[0\].default.http.numRetries/);
    expect(fake.get(kind('meshretries'), 'kuma-system', 'bad-retry')).toBeUndefined();
  });
});

/** A container's environment as the kubelet resolves it (values, and the downward API fields kuma-dp reads), with `over` on top. */
function containerEnv(c: V1Container, pod: V1Pod, over: Record<string, string>): Record<string, string> {
  const field: Record<string, string> = { 'metadata.name': pod.metadata!.name!, 'metadata.namespace': pod.metadata!.namespace!, 'status.podIP': '127.0.0.1' };
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) env[e.name] = e.value ?? field[e.valueFrom?.fieldRef?.fieldPath ?? ''] ?? '';
  return { ...env, ...over };
}
