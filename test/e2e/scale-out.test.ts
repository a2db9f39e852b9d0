import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { httpDataplane } from '../../libs/testkit/dataplanes.ts';
import { eventually } from '../../libs/testkit/eventually.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { decodeToObject } from '../../libs/xds/resource.ts';

/**
 * The distributed control plane as separate processes on a real nats-server: 1 api,
 * 2 projectors, 2 gateways; proxies are fake Envoys (ADS clients). Each failure the issue
 * names is provoked for real: SIGKILL of a projector mid-burst, SIGKILL of a gateway with
 * proxies on it, a nats-server restart, and a projector that joins late.
 */

let nats: NatsServer;
let api: KumaCpProcess;
const projectors: KumaCpProcess[] = [];
const gateways: KumaCpProcess[] = [];
const proxies = new Map<string, FakeEnvoy>();
const WEB = 8;
const backends = new Set<number>();

const env = () => ({
  KUMA_STORE_TYPE: 'nats',
  KUMA_STORE_NATS_URL: nats.url,
  KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none',
  KUMA_XDS_SERVER_DEBOUNCE: '10ms',
  KUMA_LOG_LEVEL: 'info',
  // Content collection runs all along, through every failure below.
  KUMA_STORE_NATS_CONTENT_GC_INTERVAL: '1s',
  KUMA_STORE_NATS_CONTENT_GC_GRACE: '2s',
});
const start = (roles: string, plaintext = false) => KumaCpProcess.start({ env: env(), args: ['--roles', roles], plaintext });

const dp = httpDataplane;
const put = async (name: string, body: object) => expect((await http(api.url, 'PUT', `/meshes/default/dataplanes/${name}`, body)).status).toBeLessThan(300);
const del = async (name: string) => expect((await http(api.url, 'DELETE', `/meshes/default/dataplanes/${name}`)).status).toBe(200);

/** The backend ports a proxy was last sent in the `backend` ClusterLoadAssignment. */
function backendPorts(c: FakeEnvoy): number[] {
  const r = c.resources.get(TypeUrl.ClusterLoadAssignment)?.get('backend');
  if (!r) return [];
  const cla = decodeToObject(TypeUrl.ClusterLoadAssignment, r.bytes) as { endpoints?: { lb_endpoints?: { endpoint?: { address?: { socket_address?: { port_value?: number } } } }[] }[] };
  return (cla.endpoints ?? []).flatMap((l) => (l.lb_endpoints ?? []).map((e) => e.endpoint?.address?.socket_address?.port_value ?? 0)).sort();
}
const expected = () => [...backends].sort();
const converged = (c: FakeEnvoy) => JSON.stringify(backendPorts(c)) === JSON.stringify(expected());

function connectProxy(name: string, gateway: KumaCpProcess): FakeEnvoy {
  proxies.get(name)?.close();
  const c = new FakeEnvoy({ target: `127.0.0.1:${gateway.dpPlaintextPort}`, nodeId: `default.${name}`, mode: name.endsWith('1') ? 'delta' : 'sotw' });
  proxies.set(name, c);
  return c;
}

async function allConverge(timeoutMs = 20_000): Promise<void> {
  await Promise.all([...proxies.values()].map((c) => c.waitFor(converged, timeoutMs)));
}

async function metric(cp: KumaCpProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${cp.diagnosticsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

async function manifests(): Promise<Map<string, string>> {
  const nc: NatsConnection = await connect({ servers: nats.url });
  try {
    const kv = await new Kvm(nc).open('KUMA_EVENTS_XDS_MANIFESTS');
    const out = new Map<string, string>();
    for await (const key of await kv.keys()) {
      const e = await kv.get(key);
      const m = JSON.parse(e!.string()) as { resources: unknown; namedOnly: unknown; generatedBy: string };
      out.set(key, JSON.stringify([m.resources, m.namedOnly]));
    }
    return out;
  } finally {
    await nc.close();
  }
}

beforeAll(async () => {
  nats = await NatsServer.start();
  api = await start('api');
  const [p1, p2, g1, g2] = await Promise.all([start('projector'), start('projector'), start('gateway', true), start('gateway', true)]);
  projectors.push(p1!, p2!);
  gateways.push(g1!, g2!);
  for (const port of [9001, 9002, 9003]) {
    await put(`backend-${port}`, dp(`backend-${port}`, port, 'backend'));
    backends.add(port);
  }
  for (let i = 1; i <= WEB; i++) await put(`web-${i}`, dp(`web-${i}`, 8000 + i, 'web', { outbound: [{ port: 10001, tags: { 'kuma.io/service': 'backend' } }] }));
}, 90_000);

afterAll(async () => {
  for (const c of proxies.values()) c.close();
  await Promise.all([api, ...projectors, ...gateways].map((p) => p?.destroy()));
  await nats?.stop();
});

describe('scale-out over NATS: api, 2 projectors, 2 gateways as separate processes', () => {
  it('shares the proxies between the projectors, and serves each proxy from either gateway', async () => {
    for (let i = 1; i <= WEB; i++) connectProxy(`web-${i}`, gateways[i % 2]!);
    await allConverge();
    const owned = await Promise.all(projectors.map((p) => metric(p, 'kuma_projector_owned_proxies')));
    expect(owned.every((n) => n > 0)).toBe(true);
    expect(owned[0]! + owned[1]!).toBe(WEB + 3);
    // every response pushed has been answered
    await eventually(async () => {
      for (const g of gateways) expect(await metric(g, 'kuma_xds_responses_awaiting_ack')).toBe(0);
    });
    // inspect shows which gateway each proxy is on
    await eventually(async () => {
      const items = (await http(api.url, 'GET', '/meshes/default/dataplanes+insights?name=web-')).body.items as { name: string; dataplaneInsight?: { subscriptions: { controlPlaneInstanceId: string; disconnectTime?: string }[] } }[];
      const on = new Set(items.map((i) => i.dataplaneInsight?.subscriptions.find((s) => !s.disconnectTime)?.controlPlaneInstanceId));
      expect(on.size).toBe(2);
      expect(on.has(undefined)).toBe(false);
    });
    // the API serves the computed config from the projectors' output
    const config = (await http(api.url, 'GET', '/meshes/default/dataplanes/web-1/_config')).body;
    expect(Object.keys(config.xds[TypeUrl.ClusterLoadAssignment])).toEqual(['backend']);
  }, 60_000);

  it('converges every proxy after a projector is killed during a burst of changes', async () => {
    const victim = projectors[0]!;
    for (let i = 0; i < 12; i++) {
      const port = 9100 + i;
      await put(`backend-${port}`, dp(`backend-${port}`, port, 'backend'));
      backends.add(port);
      if (i % 3 === 2) {
        const gone = 9100 + i - 1;
        await del(`backend-${gone}`);
        backends.delete(gone);
      }
      if (i === 4) await victim.stop('SIGKILL');
    }
    await allConverge(30_000);
    // every gateway measured event time -> ACK for the changes it pushed
    for (const g of gateways) expect(await metric(g, 'kuma_xds_event_to_ack_seconds_count')).toBeGreaterThan(0);
    await victim.restart();
    await eventually(async () => expect(await metric(victim, 'kuma_projector_owned_proxies')).toBeGreaterThan(0), 15_000);
  }, 90_000);

  it('moves the proxies of a killed gateway to the other one, on the same or a newer config', async () => {
    const [g1, g2] = gateways as [KumaCpProcess, KumaCpProcess];
    const before = new Map([...proxies].map(([n, c]) => [n, backendPorts(c)]));
    await g1.stop('SIGKILL');
    // web-i is on gateways[i % 2]: the even ones are on g1. Envoy would reconnect by itself; a fake Envoy is reconnected here.
    const moved = [...proxies.keys()].filter((name) => Number(name.split('-')[1]) % 2 === 0);
    await Promise.all(moved.map((name) => eventually(async () => expect(proxies.get(name)!.error).toBeDefined(), 10_000)));
    for (const name of moved) connectProxy(name, g2);
    await allConverge();
    for (const name of moved) expect(backendPorts(proxies.get(name)!)).toEqual(before.get(name));
    await g1.restart();
  }, 60_000);

  it('loses no acknowledged write across a nats-server restart, and converges again', async () => {
    await nats.kill();
    await new Promise((r) => setTimeout(r, 500));
    await nats.restart();
    await eventually(async () => {
      const res = await http(api.url, 'PUT', '/meshes/default/dataplanes/backend-9500', dp('backend-9500', 9500, 'backend'));
      expect(res.status).toBeLessThan(300);
    }, 30_000);
    backends.add(9500);
    await allConverge(30_000);
    expect((await http(api.url, 'GET', '/meshes/default/dataplanes/backend-9500')).status).toBe(200);
  }, 90_000);

  it('a projector that starts late catches up from the log and publishes byte-identical content', async () => {
    await allConverge();
    // Every Dataplane (connected or not) has its manifest before the comparison starts (keys with '_' are shared pointers).
    const names = ((await http(api.url, 'GET', '/meshes/default/dataplanes?size=1000')).body.items as { name: string }[]).map((i) => `default.${i.name}`).sort();
    await eventually(async () => expect([...(await manifests())].filter(([k, m]) => !k.startsWith('_') && m !== '[{},{}]').map(([k]) => k).sort()).toEqual(names), 15_000);
    const before = await manifests();
    const late = await start('projector');
    projectors.push(late);
    await eventually(async () => expect(await metric(late, 'kuma_projector_owned_proxies')).toBeGreaterThan(0), 15_000);
    // it rewrote the manifests of its share (as their generator), with exactly the same content
    await eventually(async () => expect(await metric(late, 'kuma_projector_manifest_writes_total{outcome="written"}')).toBeGreaterThan(0), 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    const after = await manifests();
    expect(after).toEqual(before);
    await allConverge();
  }, 60_000);

  it('collects content nothing refers to, while every proxy keeps its configuration', async () => {
    const sum = async (name: string) => (await Promise.all(projectors.map((p) => metric(p, name).catch(() => 0)))).reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0);
    // the changes above left old versions of the backend's load assignment behind
    await eventually(async () => expect(await sum('kuma_projector_content_gc_removed_total{kind="content"}'), 'content removed').toBeGreaterThan(0), 15_000);
    expect(await sum('kuma_projector_content_gc_runs_total{outcome="ok"}'), 'collections').toBeGreaterThan(0);
    // a deleted Dataplane's manifest becomes a tombstone, which is collected once older than the grace period
    await put('doomed', dp('doomed', 9700, 'doomed'));
    await eventually(async () => expect((await manifests()).get('default.doomed') ?? '[{},{}]', 'a live manifest').not.toBe('[{},{}]'), 15_000);
    await del('doomed');
    await eventually(async () => expect((await manifests()).get('default.doomed'), 'a tombstone').toBe('[{},{}]'), 15_000);
    await eventually(async () => expect((await manifests()).has('default.doomed'), 'tombstone collected').toBe(false), 15_000);
    expect(await sum('kuma_projector_content_gc_removed_total{kind="tombstone"}'), 'tombstones removed').toBeGreaterThan(0);
    // every proxy's configuration is still readable from the store (the API reads it there, uncached)
    const names = ((await http(api.url, 'GET', '/meshes/default/dataplanes?size=1000')).body.items as { name: string }[]).map((i) => i.name);
    for (const name of names) {
      const res = await http(api.url, 'GET', `/meshes/default/dataplanes/${name}/_config`);
      expect(res.status, name).toBe(200);
      expect(Object.keys(res.body.xds[TypeUrl.Cluster] ?? {}).length, name).toBeGreaterThan(0);
    }
    // a change still reaches everyone, and a proxy connecting now is configured in full
    await put('backend-9600', dp('backend-9600', 9600, 'backend'));
    backends.add(9600);
    connectProxy('web-2', gateways[1]!);
    await allConverge();
  }, 60_000);
});
