import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../libs/testkit/eventually.ts';
import { startPlainGreeter, xdsGreeterClient, type GreeterClient } from '../../libs/testkit/grpc-apps.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { freePort } from '../../libs/testkit/ports.ts';

/**
 * Policies end to end: written over REST to a real kuma-cp, matched and merged by its projector,
 * translated by the policy plugins and served over ADS to real @grpc/grpc-js-xds clients, which
 * route, fail and time out as the policies say.
 */

const dataplane = (name: string, port: number, tags: Record<string, string>, outbound?: string) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: {
    address: '127.0.0.1',
    inbound: [{ port, tags: { 'kuma.io/protocol': 'grpc', ...tags } }],
    ...(outbound ? { outbound: [{ port: 10001, tags: { 'kuma.io/service': outbound } }] } : {}),
  },
});

async function tally(client: GreeterClient, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await client.hello().catch((err: Error) => `error: ${err.message.split(':')[0]}`);
    seen[r] = (seen[r] ?? 0) + 1;
  }
  return seen;
}

describe('policies served to proxyless gRPC clients (single process)', () => {
  let cp: KumaCpProcess;
  const stops: (() => Promise<void> | void)[] = [];
  const put = async (path: string, body: unknown) => {
    const res = await http(cp.url, 'PUT', path, body);
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  };
  const client = (node: string, service: string) => {
    const c = xdsGreeterClient({ serverUri: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: `default.${node}`, service });
    stops.push(() => c.close());
    return c;
  };

  beforeAll(async () => {
    cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'memory', KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none', KUMA_XDS_SERVER_DEBOUNCE: '10ms' } });
    const [v1, v2, web, faulty, fclient] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    for (const [name, port] of [['greeter-v1', v1], ['greeter-v2', v2], ['faulty-1', faulty]] as const) {
      const s = await startPlainGreeter(port, name);
      stops.push(s.stop);
    }
    await put('/meshes/default/dataplanes/greeter-v1', dataplane('greeter-v1', v1, { 'kuma.io/service': 'greeter', version: 'v1' }));
    await put('/meshes/default/dataplanes/greeter-v2', dataplane('greeter-v2', v2, { 'kuma.io/service': 'greeter', version: 'v2' }));
    await put('/meshes/default/dataplanes/faulty-1', dataplane('faulty-1', faulty, { 'kuma.io/service': 'faulty' }));
    await put('/meshes/default/dataplanes/web-1', dataplane('web-1', web, { 'kuma.io/service': 'web' }, 'greeter'));
    await put('/meshes/default/dataplanes/fclient-1', dataplane('fclient-1', fclient, { 'kuma.io/service': 'fclient' }, 'faulty'));
  }, 60_000);

  afterAll(async () => {
    for (const s of stops.reverse()) await s();
    await cp?.destroy();
  });

  it('splits 90/10 between two subsets of a service with a MeshHTTPRoute', async () => {
    const c = client('web-1', 'greeter');
    // without a route: both instances
    await eventually(async () => expect(Object.keys(await tally(c, 20)).sort()).toEqual(['hello from greeter-v1', 'hello from greeter-v2']), 30_000);
    await put('/meshes/default/meshhttproutes/greeter-split', {
      type: 'MeshHTTPRoute',
      mesh: 'default',
      name: 'greeter-split',
      spec: {
        targetRef: { kind: 'MeshService', name: 'web' },
        to: [
          {
            targetRef: { kind: 'MeshService', name: 'greeter' },
            rules: [
              {
                matches: [{ path: { type: 'PathPrefix', value: '/' } }],
                default: {
                  backendRefs: [
                    { kind: 'MeshServiceSubset', name: 'greeter', tags: { version: 'v1' }, weight: 90 },
                    { kind: 'MeshServiceSubset', name: 'greeter', tags: { version: 'v2' }, weight: 10 },
                  ],
                },
              },
            ],
          },
        ],
      },
    });
    const seen = await eventually(async () => {
      const t = await tally(c, 200);
      // 90/10 over 200 calls: v1 within about 4.5 standard deviations of 180
      expect(t['hello from greeter-v1'] ?? 0).toBeGreaterThanOrEqual(160);
      expect(t['hello from greeter-v1'] ?? 0).toBeLessThanOrEqual(196);
      expect(t['hello from greeter-v2'] ?? 0).toBeGreaterThan(0);
      return t;
    }, 30_000);
    expect(Object.keys(seen).sort()).toEqual(['hello from greeter-v1', 'hello from greeter-v2']);
  }, 90_000);

  it('injects an abort with a MeshFaultInjection, and stops when it is deleted', async () => {
    const c = client('fclient-1', 'faulty');
    await eventually(async () => expect(await tally(c, 5)).toEqual({ 'hello from faulty-1': 5 }), 30_000);
    await put('/meshes/default/meshfaultinjections/abort-all', {
      type: 'MeshFaultInjection',
      mesh: 'default',
      name: 'abort-all',
      spec: { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { http: [{ abort: { httpStatus: 503, percentage: 100 } }] } }] },
    });
    await eventually(async () => expect(await tally(c, 10)).toEqual({ 'error: 14 UNAVAILABLE': 10 }), 30_000);
    expect((await http(cp.url, 'DELETE', '/meshes/default/meshfaultinjections/abort-all')).status).toBe(200);
    await eventually(async () => expect(await tally(c, 5)).toEqual({ 'hello from faulty-1': 5 }), 30_000);
  }, 90_000);
});
