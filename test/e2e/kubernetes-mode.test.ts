import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { fullRegistry } from '../../libs/policies/registry.ts';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { eventually } from '../../libs/testkit/eventually.ts';
import { CORE_KINDS, FakeKubeApiServer, type KubeObject, type ResourceKind } from '../../libs/testkit/fake-kube-apiserver.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';

/**
 * Kubernetes mode end to end, against the FAKE API server (libs/testkit/fake-kube-apiserver.ts,
 * a test double: no real cluster is used): kuma-cp with KUMA_STORE_TYPE=kubernetes creates the
 * default Mesh object, turns an injected Pod behind a Service into a Dataplane object, takes that
 * into its log and serves its configuration to a fake Envoy; a MeshTimeout applied as kubectl
 * would apply it changes that configuration; the REST API refuses writes.
 */
const kumaKinds: ResourceKind[] = fullRegistry()
  .all()
  .filter((d) => d.kubernetesScope !== undefined)
  .map((d) => ({ group: 'kuma.io', version: 'v1alpha1', plural: d.plural, kind: d.name, namespaced: d.kubernetesScope === 'Namespaced' }));
const kind = (plural: string) => [...CORE_KINDS, ...kumaKinds].find((k) => k.plural === plural)!;

let fake: FakeKubeApiServer;
let cp: KumaCpProcess;
let envoy: FakeEnvoy | undefined;

beforeAll(async () => {
  fake = await FakeKubeApiServer.start([...CORE_KINDS, ...kumaKinds]);
  const dir = mkdtempSync(join(tmpdir(), 'k8s-mode-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain HTTP unless TLS verification is off: the fake speaks HTTP only.
      clusters: [{ name: 'fake', cluster: { server: fake.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'kuma-cp', user: { token: 'fake-token' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'kuma-cp' } }],
      'current-context': 'fake',
    }),
  );
  cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'kubernetes', KUBECONFIG: kubeconfig, KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none' } });
}, 60_000);

afterAll(async () => {
  envoy?.close();
  await cp?.destroy();
  await fake?.close();
});

describe('Kubernetes mode (kuma-cp against the fake API server)', () => {
  it('creates the default Mesh as an object, and refuses REST writes, naming kubectl, storing nothing', async () => {
    expect(fake.get(kind('meshes'), undefined, 'default')).toBeDefined();
    await eventually(async () => expect((await http(cp.url, 'GET', '/meshes/default')).status).toBe(200));
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

    const proxy = (envoy = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: 'default.web-1.shop', mode: 'sotw' }));
    await proxy.waitFor((c) => c.names(TypeUrl.Listener).some((n) => n.startsWith('inbound:10.0.0.7:8080')), 20_000).catch((e: Error) => {
      throw new Error(`${e.message}: listeners ${JSON.stringify(proxy.names(TypeUrl.Listener))}`);
    });

    // The inbound's local cluster the proxy holds changes, and carries the 7 s idle timeout (Kuma
    // puts an HTTP inbound's idleTimeout on the cluster, none on the listener).
    const inboundVersion = (c: FakeEnvoy) => c.resources.get(TypeUrl.Cluster)?.get('localhost:8080')?.version;
    const before = inboundVersion(proxy);
    // kubectl apply of a MeshTimeout: a POST of the object to the API server.
    const res = await fetch(`${fake.url}/apis/kuma.io/v1alpha1/namespaces/kuma-system/meshtimeouts?fieldManager=kubectl-client-side-apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'kuma.io/v1alpha1',
        kind: 'MeshTimeout',
        metadata: { name: 'inbound-idle', namespace: 'kuma-system', labels: { 'kuma.io/mesh': 'default' } },
        spec: { targetRef: { kind: 'Mesh' }, from: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: '7s' } }] },
      } satisfies KubeObject),
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
});
