import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { startPlainGreeter, startXdsGreeter, xdsGreeterClient, type GreeterClient } from '../../libs/testkit/grpc-apps.ts';
import { eventually } from '../../libs/testkit/eventually.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { decodeToObject } from '../../libs/xds/resource.ts';

/**
 * Proxyless gRPC by name: a real @grpc/grpc-js-xds client whose Dataplane has an inbound only
 * (no `outbound[]`, no transparent proxying) dials `xds:///greeter`, and the name is its
 * declaration. Against the single process and against the distributed roles over NATS
 * (api, 2 projectors, a gateway as separate processes on a real nats-server).
 */

const dp = (mesh: string, name: string, port: number, service: string) => ({
  type: 'Dataplane',
  mesh,
  name,
  networking: { address: '127.0.0.1', inbound: [{ port, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'grpc' } }] },
});

async function tally(client: GreeterClient, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await client.hello();
    seen[r] = (seen[r] ?? 0) + 1;
  }
  return seen;
}

interface Target {
  /** The REST API. */
  readonly api: string;
  /** Plaintext ADS of a gateway. */
  readonly ads: string;
}

/** The same proof against either deployment. */
function byName(name: string, start: () => Promise<{ target: Target; stop(): Promise<void> }>): void {
  describe(`proxyless gRPC by name (${name})`, () => {
    let target: Target;
    let stopCp: () => Promise<void> = async () => undefined;
    const stops: (() => Promise<void> | void)[] = [];
    const ports: Record<string, number> = {};
    let otherMesh: { calls(): number };
    let lonely: { calls(): number };
    const put = async (mesh: string, dpName: string, port: number, svc: string) => {
      const res = await http(target.api, 'PUT', `/meshes/${mesh}/dataplanes/${dpName}`, dp(mesh, dpName, port, svc));
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    };
    const client = (svc: string) => {
      const c = xdsGreeterClient({ serverUri: target.ads, nodeId: 'default.client-1', service: svc });
      stops.push(() => c.close());
      return c;
    };

    beforeAll(async () => {
      const started = await start();
      target = started.target;
      stopCp = started.stop;
      for (const k of ['b1', 'b2', 'x', 'lonely', 'client']) ports[k] = await freePort();
      expect((await http(target.api, 'PUT', '/meshes/other', { type: 'Mesh', name: 'other' })).status).toBeLessThan(300);
      await put('default', 'backend-1', ports['b1']!, 'greeter');
      await put('default', 'backend-2', ports['b2']!, 'greeter');
      // Mesh "other" has a service of the same name, and one that exists only there.
      await put('other', 'backend-x', ports['x']!, 'greeter');
      await put('other', 'lonely-1', ports['lonely']!, 'lonely');
      // The client declares nothing it calls: an inbound only.
      await put('default', 'client-1', ports['client']!, 'client');
      const b1 = await startXdsGreeter({ serverUri: target.ads, nodeId: 'default.backend-1', port: ports['b1']!, name: 'backend-1' });
      const b2 = await startXdsGreeter({ serverUri: target.ads, nodeId: 'default.backend-2', port: ports['b2']!, name: 'backend-2' });
      const x = await startPlainGreeter(ports['x']!, 'backend-x');
      const l = await startPlainGreeter(ports['lonely']!, 'lonely-1');
      otherMesh = x;
      lonely = l;
      stops.push(b1.stop, b2.stop, x.stop, l.stop);
    }, 120_000);

    afterAll(async () => {
      for (const s of stops.reverse()) await s();
      await stopCp();
    });

    it('routes a client with no outbounds to the service it dials, across both endpoints', async () => {
      const c = client('greeter');
      const seen = await eventually(async () => {
        const t = await tally(c, 40);
        expect(Object.keys(t).sort()).toEqual(['hello from backend-1', 'hello from backend-2']);
        return t;
      }, 30_000);
      expect(seen['hello from backend-x']).toBeUndefined();
      expect(otherMesh.calls()).toBe(0);
    }, 60_000);

    it('takes a removed endpoint (a deleted Dataplane) out of the client\'s traffic', async () => {
      const c = client('greeter');
      await eventually(async () => expect(Object.keys(await tally(c, 20)).length).toBe(2), 30_000);
      expect((await http(target.api, 'DELETE', '/meshes/default/dataplanes/backend-2')).status).toBe(200);
      await eventually(async () => expect(await tally(c, 30)).toEqual({ 'hello from backend-1': 30 }), 30_000);
      // ... and an endpoint that comes back is used again.
      await put('default', 'backend-2', ports['b2']!, 'greeter');
      await eventually(async () => expect(Object.keys(await tally(c, 30)).sort()).toEqual(['hello from backend-1', 'hello from backend-2']), 30_000);
      expect(otherMesh.calls()).toBe(0);
    }, 90_000);

    it('never serves a service of another mesh, even one its own mesh does not have', async () => {
      // At the protocol level: asked for by name, only this mesh's service is answered.
      const envoy = new FakeEnvoy({ target: target.ads, nodeId: 'default.client-1', mode: 'sotw' });
      stops.push(() => envoy.close());
      envoy.subscribe(TypeUrl.Listener, ['greeter', 'lonely']);
      await envoy.waitFor((e) => e.names(TypeUrl.Listener).includes('greeter'), 15_000);
      envoy.subscribe(TypeUrl.Cluster, ['greeter', 'lonely']);
      envoy.subscribe(TypeUrl.ClusterLoadAssignment, ['greeter', 'lonely']);
      await envoy.waitFor((e) => e.names(TypeUrl.ClusterLoadAssignment).includes('greeter'), 15_000);
      for (const t of [TypeUrl.Listener, TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment]) expect(envoy.names(t), t).toEqual(['greeter']);
      const cla = decodeToObject(TypeUrl.ClusterLoadAssignment, envoy.resources.get(TypeUrl.ClusterLoadAssignment)!.get('greeter')!.bytes) as { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[] }[] };
      const served = cla.endpoints.flatMap((l) => l.lb_endpoints.map((e) => e.endpoint.address.socket_address.port_value)).sort();
      expect(served).toEqual([ports['b1']!, ports['b2']!].sort());
      // A delta client asking by name is served the same, and nothing of the other mesh.
      const delta = new FakeEnvoy({ target: target.ads, nodeId: 'default.client-1', mode: 'delta' });
      stops.push(() => delta.close());
      delta.subscribe(TypeUrl.Listener, ['greeter', 'lonely']);
      delta.subscribe(TypeUrl.ClusterLoadAssignment, ['greeter', 'lonely']);
      await delta.waitFor((e) => e.names(TypeUrl.ClusterLoadAssignment).includes('greeter') && e.names(TypeUrl.Listener).includes('greeter'), 15_000);
      expect(delta.names(TypeUrl.Listener).filter((n) => !n.startsWith('inbound:'))).toEqual(['greeter']);
      expect(Buffer.from(delta.resources.get(TypeUrl.ClusterLoadAssignment)!.get('greeter')!.bytes).equals(Buffer.from(envoy.resources.get(TypeUrl.ClusterLoadAssignment)!.get('greeter')!.bytes))).toBe(true);
      // A real client dialing the other mesh's service never reaches it.
      const c = client('lonely');
      await expect(c.hello(3000)).rejects.toThrow(/DEADLINE_EXCEEDED|UNAVAILABLE/);
      expect(lonely.calls()).toBe(0);
      // The same-named service of this client's mesh is what it reaches; mesh other's server saw no call at all.
      expect(Object.keys(await tally(client('greeter'), 10)).every((k) => k.startsWith('hello from backend-'))).toBe(true);
      expect(otherMesh.calls()).toBe(0);
    }, 60_000);
  });
}

byName('single process', async () => {
  const cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'memory', KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none', KUMA_XDS_SERVER_DEBOUNCE: '10ms' } });
  return { target: { api: cp.url, ads: `127.0.0.1:${cp.dpPlaintextPort}` }, stop: () => cp.destroy() };
});

byName('distributed over NATS', async () => {
  const nats = await NatsServer.start();
  const env = { KUMA_STORE_TYPE: 'nats', KUMA_STORE_NATS_URL: nats.url, KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none', KUMA_XDS_SERVER_DEBOUNCE: '10ms' };
  const start = (roles: string, plaintext = false) => KumaCpProcess.start({ env, args: ['--roles', roles], plaintext });
  const api = await start('api');
  const [p1, p2, gw] = await Promise.all([start('projector'), start('projector'), start('gateway', true)]);
  return {
    target: { api: api.url, ads: `127.0.0.1:${gw.dpPlaintextPort}` },
    stop: async () => {
      await Promise.all([api, p1, p2, gw].map((p) => p.destroy()));
      await nats.stop();
    },
  };
});
