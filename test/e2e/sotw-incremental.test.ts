import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { httpDataplane } from '../../libs/testkit/dataplanes.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';

/**
 * State-of-the-world EDS and RDS responses carry only what changed (the xDS protocol requires
 * the whole set only for LDS and CDS), against a real kuma-cp with a fake Envoy SotW client.
 * Responses on one stream arrive in order, so an endpoint change made after a request, once
 * its response arrives, proves every response to that request has arrived too (no sleeps).
 */
let cp: KumaCpProcess;
const clients: FakeEnvoy[] = [];
const put = async (name: string, body: object) => expect((await http(cp.url, 'PUT', `/meshes/default/dataplanes/${name}`, body)).status).toBeLessThan(300);
const SERVICES = ['backend', 'cache', 'db'];
const outbounds = { outbound: SERVICES.map((s, i) => ({ port: 10001 + i, tags: { 'kuma.io/service': s } })) };
let backendPort = 9100;

function sotw(nodeId: string): FakeEnvoy {
  const c = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId, mode: 'sotw' });
  clients.push(c);
  return c;
}
const complete = (c: FakeEnvoy) => c.names(TypeUrl.ClusterLoadAssignment).length === 3 && c.names(TypeUrl.RouteConfiguration).length >= 3;
const ofType = (c: FakeEnvoy, typeUrl: string, from: number) => c.responses.slice(from).filter((r) => r.typeUrl === typeUrl);

/** Adds a backend endpoint and waits until `c` has received it: every earlier response has arrived. */
async function barrier(c: FakeEnvoy): Promise<void> {
  const mark = c.responses.length;
  const port = ++backendPort;
  await put(`backend-${port}`, httpDataplane(`backend-${port}`, port, 'backend'));
  await c.waitFor((x) => ofType(x, TypeUrl.ClusterLoadAssignment, mark).some((r) => r.changed.includes('backend')));
}

beforeAll(async () => {
  cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'memory', KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none', KUMA_XDS_SERVER_DEBOUNCE: '5ms' } });
  await put('web-1', httpDataplane('web-1', 8080, 'web', outbounds));
  for (const [i, svc] of SERVICES.entries()) await put(`${svc}-1`, httpDataplane(`${svc}-1`, 9090 + i, svc));
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await cp?.destroy();
});

describe('SotW sends only what changed for EDS and RDS', () => {
  it('re-sends one ClusterLoadAssignment for one endpoint change, and the client keeps the others', async () => {
    const c = sotw('default.web-1');
    await c.waitFor(complete);
    const before = new Map(c.resources.get(TypeUrl.ClusterLoadAssignment));
    const version = c.versions.get(TypeUrl.ClusterLoadAssignment);
    const mark = c.responses.length;
    await barrier(c);
    expect(ofType(c, TypeUrl.ClusterLoadAssignment, mark).map((r) => [r.changed, r.carried])).toEqual([[['backend'], 1]]);
    expect(c.names(TypeUrl.ClusterLoadAssignment)).toEqual(SERVICES);
    for (const n of ['cache', 'db']) expect(c.resources.get(TypeUrl.ClusterLoadAssignment)!.get(n)!.bytes).toEqual(before.get(n)!.bytes);
    expect(c.versions.get(TypeUrl.ClusterLoadAssignment)).not.toBe(version);
    // An endpoint change touches neither LDS, CDS nor RDS.
    expect(c.responses.slice(mark).map((r) => r.typeUrl)).toEqual([TypeUrl.ClusterLoadAssignment]);
  });

  it('sends names a re-subscription adds even when unchanged, and nothing for names it drops', async () => {
    const c = sotw('default.web-1');
    await c.waitFor(complete);
    const mark = c.responses.length;
    c.subscribe(TypeUrl.ClusterLoadAssignment, ['backend', 'db']);
    c.subscribe(TypeUrl.ClusterLoadAssignment, SERVICES);
    await c.waitFor((x) => ofType(x, TypeUrl.ClusterLoadAssignment, mark).some((r) => r.changed.includes('cache')));
    await barrier(c);
    expect(ofType(c, TypeUrl.ClusterLoadAssignment, mark).map((r) => [r.changed, r.carried])).toEqual([
      [['cache'], 1],
      [['backend'], 1],
    ]);
    expect(c.names(TypeUrl.ClusterLoadAssignment)).toEqual(SERVICES);
  });

  it('does not re-send the other route configurations when one stops being named', async () => {
    const c = sotw('default.web-1');
    await c.waitFor(complete);
    const routes = c.names(TypeUrl.RouteConfiguration);
    const mark = c.responses.length;
    // db's protocol becomes tcp: its outbound listener no longer names a route, and the client drops it from RDS.
    await put('db-1', { ...httpDataplane('db-1', 9092, 'db'), networking: { address: '127.0.0.1', inbound: [{ port: 9092, tags: { 'kuma.io/service': 'db', 'kuma.io/protocol': 'tcp' } }] } });
    await c.waitFor((x) => x.names(TypeUrl.RouteConfiguration).length === routes.length - 1);
    await barrier(c);
    expect(c.names(TypeUrl.RouteConfiguration)).toEqual(routes.filter((n) => n !== 'outbound:db'));
    expect(ofType(c, TypeUrl.RouteConfiguration, mark).reduce((n, r) => n + r.carried, 0)).toBe(0);
  });
});

describe('a Cluster that changes is followed by its ClusterLoadAssignment (Envoy warms it until one arrives)', () => {
  const cacheWith = (protocol: string) => ({ ...httpDataplane('cache-1', 9091, 'cache'), networking: { address: '127.0.0.1', inbound: [{ port: 9091, tags: { 'kuma.io/service': 'cache', 'kuma.io/protocol': protocol } }] } });

  for (const [mode, protocol] of [
    ['sotw', 'http2'],
    ['delta', 'http'],
  ] as const) {
    it(`${mode}: re-sends the unchanged load assignment of an updated cluster right after the CDS response`, async () => {
      const c = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: 'default.web-1', mode });
      clients.push(c);
      // (db went tcp above: it has no route any more.)
      await c.waitFor((x) => x.names(TypeUrl.ClusterLoadAssignment).length === 3 && x.names(TypeUrl.RouteConfiguration).length >= 2);
      const before = c.resources.get(TypeUrl.ClusterLoadAssignment)!.get('cache')!.bytes;
      const mark = c.responses.length;
      // The cache's protocol changes: its cluster changes (HTTP/2 options), its endpoints do not.
      await put('cache-1', cacheWith(protocol));
      await c.waitFor((x) => ofType(x, TypeUrl.Cluster, mark).some((r) => r.changed.includes('cache')));
      await barrier(c);
      const after = c.responses.slice(mark);
      const update = after.findIndex((r) => r.typeUrl === TypeUrl.Cluster && r.changed.includes('cache'));
      const next = after.slice(update + 1).find((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment);
      expect(next?.names).toContain('cache');
      expect(Buffer.from(c.resources.get(TypeUrl.ClusterLoadAssignment)!.get('cache')!.bytes).equals(Buffer.from(before))).toBe(true);
      // Only the updated cluster's: the others stay as they were.
      expect(next?.names).not.toContain('db');
      expect(c.names(TypeUrl.ClusterLoadAssignment)).toEqual(SERVICES);
    });
  }
});
