import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';

/**
 * Trimming by permission through a real kuma-cp with KUMA_EXPERIMENTAL_AUTO_REACHABLE_SERVICES:
 * transparent proxies on real ADS streams get clusters only for the services their
 * MeshTrafficPermissions may let them call, a permission written over the REST API moves exactly
 * the proxies it concerns, and `_config` (live and `?at=`) shows the trimmed configuration.
 */
let cp: KumaCpProcess;
const proxies = new Map<string, FakeEnvoy>();

const dataplane = (name: string, service: string, i: number) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: {
    address: `10.0.0.${i}`,
    inbound: [{ port: 8080, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'http' } }],
    transparentProxying: { redirectPortInbound: 15006, redirectPortOutbound: 15001 },
  },
});
const permission = (service: string, callers: string[]) => ({
  type: 'MeshTrafficPermission',
  mesh: 'default',
  name: service,
  spec: { targetRef: { kind: 'MeshService', name: service }, from: callers.map((c) => ({ targetRef: { kind: 'MeshService', name: c }, default: { action: 'Allow' } })) },
});
const meshClusters = (names: string[]) => names.filter((n) => !n.includes(':')).sort();
const clustersOf = (name: string) => meshClusters(proxies.get(name)!.names(TypeUrl.Cluster));

beforeAll(async () => {
  cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'memory', KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none', KUMA_EXPERIMENTAL_AUTO_REACHABLE_SERVICES: 'true' } });
  expect((await http(cp.url, 'PUT', '/meshes/default', { type: 'Mesh', name: 'default', mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } })).status).toBe(200);
  for (const [i, [name, svc]] of ([['web-1', 'web'], ['api-1', 'api'], ['db-1', 'db']] as const).entries()) {
    expect((await http(cp.url, 'PUT', `/meshes/default/dataplanes/${name}`, dataplane(name, svc, i + 1))).status).toBe(201);
  }
  expect((await http(cp.url, 'PUT', '/meshes/default/meshtrafficpermissions/api', permission('api', ['web']))).status).toBe(201);
  expect((await http(cp.url, 'PUT', '/meshes/default/meshtrafficpermissions/db', permission('db', ['api']))).status).toBe(201);
  for (const name of ['web-1', 'api-1', 'db-1']) proxies.set(name, new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: `default.${name}`, mode: name === 'api-1' ? 'delta' : 'sotw' }));
}, 60_000);

afterAll(async () => {
  for (const p of proxies.values()) p.close();
  await cp?.destroy();
});

describe('automatic reachable services (trimming by MeshTrafficPermission) through kuma-cp', () => {
  it('serves each transparent proxy clusters only for the services it may call', async () => {
    await proxies.get('web-1')!.waitFor(() => JSON.stringify(clustersOf('web-1')) === '["api"]', 20_000);
    await proxies.get('api-1')!.waitFor(() => JSON.stringify(clustersOf('api-1')) === '["db"]', 20_000);
    // Nothing selects web: with mTLS nobody may call it, and db may call nothing.
    await proxies.get('db-1')!.waitFor(() => proxies.get('db-1')!.names(TypeUrl.Cluster).length > 0, 20_000);
    expect(clustersOf('db-1')).toEqual([]);
    const config = await http(cp.url, 'GET', '/meshes/default/dataplanes/web-1/_config');
    expect(meshClusters(Object.keys(config.body.xds[TypeUrl.Cluster]))).toEqual(['api']);
  });

  it('a permission change moves the outbounds of exactly the proxies it concerns, live, and ?at= shows the past trimmed alike', async () => {
    const before = (await http(cp.url, 'GET', '/_events?size=1')).body.range.until as number;
    const pushes = (name: string) => proxies.get(name)!.responses.filter((r) => r.typeUrl === TypeUrl.Cluster).length;
    const webPushes = pushes('web-1');
    expect((await http(cp.url, 'PUT', '/meshes/default/meshtrafficpermissions/api', permission('api', ['web', 'db']))).status).toBe(200);
    await proxies.get('db-1')!.waitFor(() => JSON.stringify(clustersOf('db-1')) === '["api"]', 20_000);
    // web's reachable services did not move: no new clusters for it.
    await new Promise((r) => setTimeout(r, 500));
    expect(pushes('web-1')).toBe(webPushes);
    const past = await http(cp.url, 'GET', `/meshes/default/dataplanes/db-1/_config?at=${before}`);
    expect(past.status).toBe(200);
    expect(meshClusters(Object.keys(past.body.xds[TypeUrl.Cluster] ?? {}))).toEqual([]);
  });
});
