import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { startPlainGreeter, startXdsGreeter, xdsGreeterClient } from '../../libs/testkit/grpc-apps.ts';
import { eventually } from '../../libs/testkit/eventually.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { runKumactl } from '../../libs/testkit/kumactl.ts';
import { freePort } from '../../libs/testkit/ports.ts';

/**
 * Real @grpc/grpc-js-xds clients and xDS-enabled servers against a real kuma-cp. gRPC validates
 * every resource strictly and NACKs what is wrong, so these tests prove the configuration works.
 * Run twice: the projector handing snapshots to the gateway directly (fabric none, the default),
 * and the two roles talking through the in-memory fabric (content, manifests, pointers, status)
 * exactly as they do over NATS.
 */
async function tally(client: ReturnType<typeof xdsGreeterClient>, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await client.hello();
    seen[r] = (seen[r] ?? 0) + 1;
  }
  return seen;
}

describe.each(['none', 'memory'])('with fabric %s', (fabric) => {
  let cp: KumaCpProcess;
  let serverUri: string;
  const stops: (() => Promise<void> | void)[] = [];
  const ports: Record<string, number> = {};

  const dp = (mesh: string, name: string, port: number, service: string, extra: object = {}) => ({
    type: 'Dataplane',
    mesh,
    name,
    networking: { address: '127.0.0.1', inbound: [{ port, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'grpc' } }], ...extra },
  });

  beforeAll(async () => {
    cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'memory', KUMA_FABRIC_TYPE: fabric, KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none' } });
    serverUri = `127.0.0.1:${cp.dpPlaintextPort}`;
    for (const k of ['b1', 'b2', 'other', 'client']) ports[k] = await freePort();
    await http(cp.url, 'PUT', '/meshes/other', { type: 'Mesh', name: 'other' });
    for (const [mesh, name, port, svc, extra] of [
      ['default', 'backend-1', ports['b1']!, 'greeter', {}],
      ['default', 'backend-2', ports['b2']!, 'greeter', {}],
      ['other', 'backend-x', ports['other']!, 'greeter', {}],
      ['default', 'client-1', ports['client']!, 'client', { outbound: [{ port: 10001, tags: { 'kuma.io/service': 'greeter' } }] }],
    ] as const) {
      const res = await http(cp.url, 'PUT', `/meshes/${mesh}/dataplanes/${name}`, dp(mesh, name, port, svc, extra));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const b1 = await startXdsGreeter({ serverUri, nodeId: 'default.backend-1', port: ports['b1']!, name: 'backend-1' });
    const b2 = await startXdsGreeter({ serverUri, nodeId: 'default.backend-2', port: ports['b2']!, name: 'backend-2' });
    const x = await startPlainGreeter(ports['other']!, 'backend-x');
    stops.push(b1.stop, b2.stop, x.stop);
  }, 60_000);

  afterAll(async () => {
    for (const s of stops.reverse()) await s();
    await cp?.destroy();
  });

  describe('proxyless gRPC over xDS (real grpc-js-xds)', () => {
    it('reaches a service backed by two dataplanes, with both getting traffic, never the same-named service of another mesh', async () => {
      const client = xdsGreeterClient({ serverUri, nodeId: 'default.client-1', service: 'greeter' });
      stops.push(() => client.close());
      const seen = await eventually(async () => {
        const t = await tally(client, 40);
        expect(Object.keys(t).sort()).toEqual(['hello from backend-1', 'hello from backend-2']);
        return t;
      });
      expect(seen['hello from backend-x']).toBeUndefined();
    });

    it('moves all traffic to the remaining backend when one is deleted', async () => {
      const client = xdsGreeterClient({ serverUri, nodeId: 'default.client-1', service: 'greeter' });
      stops.push(() => client.close());
      await eventually(async () => expect(Object.keys(await tally(client, 20)).length).toBe(2));
      expect((await http(cp.url, 'DELETE', '/meshes/default/dataplanes/backend-2')).status).toBe(200);
      await eventually(async () => expect(await tally(client, 30)).toEqual({ 'hello from backend-1': 30 }));
    });

    it('keeps a client working on its previous config after it NACKs an update, and records the NACK', async () => {
      const client = xdsGreeterClient({ serverUri, nodeId: 'default.client-1', service: 'greeter' });
      stops.push(() => client.close());
      await eventually(async () => expect(await tally(client, 5)).toEqual({ 'hello from backend-1': 5 }));
      // A hostname endpoint is valid for Kuma and Envoy, but gRPC rejects non-IP endpoint addresses.
      const bad = { ...dp('default', 'backend-dns', 50999, 'greeter'), networking: { address: 'greeter.example.com', inbound: [{ port: 50999, tags: { 'kuma.io/service': 'greeter', 'kuma.io/protocol': 'grpc' } }] } };
      expect((await http(cp.url, 'PUT', '/meshes/default/dataplanes/backend-dns', bad)).status).toBe(201);
      const insight = await eventually(async () => {
        const res = await http(cp.url, 'GET', '/meshes/default/dataplanes+insights?name=client-1');
        const subs = res.body.items[0].dataplaneInsight.subscriptions as { status: { eds?: { responsesRejected: number; lastNack?: { error: string } } } }[];
        const nacked = subs.find((s) => (s.status.eds?.responsesRejected ?? 0) > 0);
        expect(nacked).toBeDefined();
        return nacked!;
      });
      expect(insight.status.eds!.lastNack!.error).toMatch(/not a valid IPv4 or IPv6 address/);
      expect(await tally(client, 10)).toEqual({ 'hello from backend-1': 10 });
      await http(cp.url, 'DELETE', '/meshes/default/dataplanes/backend-dns');
    });

    it('refuses to register a Dataplane brought by a proxy into a mesh that does not exist', async () => {
      const body = { ...dp('ghost-mesh', 'ghost-1', 6000, 'ghost') };
      const c = new FakeEnvoy({ target: serverUri, nodeId: 'ghost-mesh.ghost-1', mode: 'sotw', nodeMetadata: { 'dataplane.resource': JSON.stringify(body) } });
      stops.push(() => c.close());
      await c.waitFor(() => false, 3000).catch(() => undefined);
      expect(c.error?.code).toBe(9);
      expect(c.error?.details).toBe('cannot register dataplane ghost-mesh.ghost-1: mesh "ghost-mesh" does not exist');
      expect((await http(cp.url, 'GET', '/dataplanes?name=ghost-1')).body.total).toBe(0);
    });

    it('shows the computed configuration and the connection state', async () => {
      const config = await http(cp.url, 'GET', '/meshes/default/dataplanes/client-1/_config');
      expect(config.status).toBe(200);
      const listeners = config.body.xds['type.googleapis.com/envoy.config.listener.v3.Listener'];
      expect(listeners['greeter'].api_listener).toBeDefined();
      expect(listeners['outbound:127.0.0.1:10001']).toBeDefined();
      expect(Object.keys(config.body.xds['type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment'])).toEqual(['greeter']);
      // Over a fabric the projector publishes after the API answered the last write: compare once both settled.
      await eventually(async () => {
        const cli = await runKumactl(cp, ['inspect', 'dataplane', 'client-1', '--type', 'config']);
        expect(JSON.parse(cli.stdout)).toEqual((await http(cp.url, 'GET', '/meshes/default/dataplanes/client-1/_config')).body);
      });
      const table = await runKumactl(cp, ['inspect', 'dataplanes']);
      expect(table.stdout).toMatch(/\ndefault\s+backend-1\s+kuma\.io\/protocol=grpc kuma\.io\/service=greeter\s+Online\s+\d+s\s+\d+s\s+[1-9]/);
      const overview = await http(cp.url, 'GET', '/meshes/default/dataplanes+insights?name=backend-1');
      const subs = overview.body.items[0].dataplaneInsight.subscriptions;
      expect(subs.some((s: { disconnectTime?: string }) => !s.disconnectTime)).toBe(true);
    });
  });
});
