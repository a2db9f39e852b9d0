import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { messageType, TypeUrl } from '../../libs/xds/protos.ts';

/**
 * Observability and patch policies end to end: written over REST to a real kuma-cp, matched by
 * its projector, translated by the plugins, and served over ADS to a fake Envoy (named as such:
 * no Envoy binary here) and shown by `_config`. A MeshProxyPatch whose result is not valid Envoy
 * configuration leaves the proxy on its last good configuration, and the process serves on.
 */

const dataplane = (name: string, service: string, port: number, outbound?: string) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: {
    address: '127.0.0.1',
    inbound: [{ port, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'http' } }],
    ...(outbound ? { outbound: [{ port: 10001, tags: { 'kuma.io/service': outbound } }] } : {}),
  },
});
const policy = (type: string, plural: string, name: string, spec: unknown) => [`/meshes/default/${plural}/${name}`, { type, mesh: 'default', name, spec }] as const;
const connectTimeout = (envoy: FakeEnvoy, cluster: string): unknown => {
  const held = envoy.resources.get(TypeUrl.Cluster)?.get(cluster);
  if (!held) return undefined;
  const t = messageType('envoy.config.cluster.v3.Cluster');
  return (t.toObject(t.decode(held.bytes), { longs: Number }) as { connect_timeout?: { seconds?: number } }).connect_timeout?.seconds;
};

describe('observability policies through kuma-cp', { timeout: 60_000 }, () => {
  let cp: KumaCpProcess;
  let envoy: FakeEnvoy;
  const put = async (path: string, body: unknown) => {
    const res = await http(cp.url, 'PUT', path, body);
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  };
  const config = async () => (await http(cp.url, 'GET', '/meshes/default/dataplanes/web-1/_config')) as { status: number; body: { xds?: Record<string, Record<string, Record<string, unknown>>> } };

  beforeAll(async () => {
    cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'memory', KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none', KUMA_XDS_SERVER_DEBOUNCE: '10ms' } });
    await put('/meshes/default/dataplanes/web-1', dataplane('web-1', 'web', 18080, 'backend'));
    await put('/meshes/default/dataplanes/backend-1', dataplane('backend-1', 'backend', 18081));
    envoy = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: 'default.web-1', mode: 'sotw' });
    await envoy.waitFor((e) => e.resources.get(TypeUrl.Cluster)?.has('backend') === true, 30_000);
  }, 60_000);

  afterAll(async () => {
    envoy?.close();
    await cp?.destroy();
  });

  it('MeshTrace, MeshAccessLog and MeshMetric reach the proxy as Kuma generates them', async () => {
    await put(...policy('MeshTrace', 'meshtraces', 'trace', { targetRef: { kind: 'Mesh' }, default: { backends: [{ type: 'Zipkin', zipkin: { url: 'http://zipkin:9411/api/v2/spans' } }] } }));
    await put(
      ...policy('MeshAccessLog', 'meshaccesslogs', 'logs', { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { backends: [{ type: 'File', file: { path: '/dev/stdout' } }] } }] }),
    );
    await put(...policy('MeshMetric', 'meshmetrics', 'metrics', { targetRef: { kind: 'Mesh' }, default: { backends: [{ type: 'Prometheus', prometheus: { port: 5670, path: '/metrics' } }] } }));
    await envoy.waitFor((e) => e.resources.get(TypeUrl.Cluster)?.has('meshtrace:zipkin') === true && e.resources.get(TypeUrl.Listener)?.has('_kuma:metrics:prometheus:default-backend') === true, 30_000);
    const res = await config();
    expect(res.status).toBe(200);
    const listeners = res.body.xds![TypeUrl.Listener]!;
    const outbound = JSON.stringify(listeners['outbound:127.0.0.1:10001']);
    expect(outbound).toContain('envoy.tracers.zipkin');
    expect(outbound).toContain('[%START_TIME%] default \\"%REQ(:METHOD)%');
    expect(JSON.stringify(listeners['inbound:127.0.0.1:18080'])).toContain('meshtrace:zipkin');
  });

  it('an invalid MeshProxyPatch result keeps the last good configuration; a valid one applies again', async () => {
    const patch = (jsonPatches: unknown[]) =>
      policy('MeshProxyPatch', 'meshproxypatches', 'patch', { targetRef: { kind: 'Mesh' }, default: { appendModifications: [{ cluster: { operation: 'Patch', match: { name: 'backend' }, jsonPatches } }] } });
    await put(...patch([{ op: 'replace', path: '/connectTimeout', value: '3s' }]));
    await envoy.waitFor((e) => connectTimeout(e, 'backend') === 3, 30_000);
    await new Promise((r) => setTimeout(r, 300)); // the rest of that update (other types) arrives
    const responses = envoy.responses.length;

    await put(...patch([{ op: 'add', path: '/connectTimeoutt', value: '4s' }]));
    await new Promise((r) => setTimeout(r, 500));
    expect(connectTimeout(envoy, 'backend')).toBe(3);
    expect(envoy.responses.length).toBe(responses); // nothing new was pushed
    expect(envoy.nacks).toBe(0);
    expect((await config()).status).toBe(503); // no configuration can be built now
    expect((await http(cp.url, 'GET', '/meshes/default')).status).toBe(200); // the process serves on

    await put(...patch([{ op: 'replace', path: '/connectTimeout', value: '4s' }]));
    await envoy.waitFor((e) => connectTimeout(e, 'backend') === 4, 30_000);
  });
});
