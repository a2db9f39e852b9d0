import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { httpDataplane } from '../../libs/testkit/dataplanes.ts';
import { eventually } from '../../libs/testkit/eventually.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';
import { PostgresServer } from '../../libs/testkit/postgres-server.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { decodeToObject } from '../../libs/xds/resource.ts';

/**
 * The log in PostgreSQL, the xDS roles over a NATS fabric: api, projector and two gateways as
 * separate processes, as the JetStream store runs them; proxies are fake Envoys.
 */
let pgServer: PostgresServer;
let nats: NatsServer;
const processes: KumaCpProcess[] = [];
const proxies: FakeEnvoy[] = [];
/** The api and one gateway of the first test (processes[] is in the order they became ready). */
let roles: { api: KumaCpProcess; gateway: KumaCpProcess } | undefined;

const env = () => ({
  KUMA_STORE_TYPE: 'postgres',
  KUMA_STORE_POSTGRES_PORT: String(pgServer.port),
  KUMA_STORE_POSTGRES_USER: 'postgres',
  KUMA_STORE_POSTGRES_PASSWORD: '',
  KUMA_STORE_POSTGRES_DB_NAME: 'kuma',
  KUMA_FABRIC_TYPE: 'nats',
  KUMA_FABRIC_NATS_URL: nats.url,
  KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none',
  KUMA_XDS_SERVER_DEBOUNCE: '10ms',
});
const start = async (roles: string, plaintext = false, extra: Record<string, string> = {}) => {
  const cp = await KumaCpProcess.start({ env: { ...env(), ...extra }, args: ['--roles', roles], plaintext });
  processes.push(cp);
  return cp;
};

function backendPorts(c: FakeEnvoy): number[] {
  const r = c.resources.get(TypeUrl.ClusterLoadAssignment)?.get('backend');
  if (!r) return [];
  const cla = decodeToObject(TypeUrl.ClusterLoadAssignment, r.bytes) as { endpoints?: { lb_endpoints?: { endpoint?: { address?: { socket_address?: { port_value?: number } } } }[] }[] };
  return (cla.endpoints ?? []).flatMap((l) => (l.lb_endpoints ?? []).map((e) => e.endpoint?.address?.socket_address?.port_value ?? 0)).sort();
}

beforeAll(async () => {
  [pgServer, nats] = await Promise.all([PostgresServer.start(), NatsServer.start()]);
  pgServer.createDatabase('kuma');
  const migrated = await KumaCpProcess.command(['migrate', 'up'], env());
  if (migrated.code !== 0) throw new Error(migrated.stderr);
}, 60_000);
afterAll(async () => {
  for (const p of proxies) p.close();
  await Promise.all(processes.map((p) => p.destroy()));
  await Promise.all([pgServer?.stop(), nats?.stop()]);
});

describe('PostgreSQL store with a NATS fabric', () => {
  it('runs api, projector and gateways as separate processes and serves proxies from either gateway', async () => {
    const api = await start('api');
    const [, g1, g2] = await Promise.all([start('projector'), start('gateway', true), start('gateway', true)]);
    roles = { api, gateway: g1! };
    const put = async (name: string, body: object) => expect((await http(api.url, 'PUT', `/meshes/default/dataplanes/${name}`, body)).status).toBeLessThan(300);
    await put('backend-9001', httpDataplane('backend-9001', 9001, 'backend'));
    for (const i of [1, 2]) await put(`web-${i}`, httpDataplane(`web-${i}`, 8000 + i, 'web', { outbound: [{ port: 10001, tags: { 'kuma.io/service': 'backend' } }] }));
    const web1 = new FakeEnvoy({ target: `127.0.0.1:${g1!.dpPlaintextPort}`, nodeId: 'default.web-1', mode: 'delta' });
    const web2 = new FakeEnvoy({ target: `127.0.0.1:${g2!.dpPlaintextPort}`, nodeId: 'default.web-2', mode: 'sotw' });
    proxies.push(web1, web2);
    for (const c of [web1, web2]) await c.waitFor((p) => JSON.stringify(backendPorts(p)) === '[9001]', 20_000);
    // An endpoint change written to PostgreSQL reaches both through the projector and the fabric.
    await put('backend-9002', httpDataplane('backend-9002', 9002, 'backend'));
    for (const c of [web1, web2]) await c.waitFor((p) => JSON.stringify(backendPorts(p)) === '[9001,9002]', 20_000);
  }, 90_000);

  it("keeps a gateway to what it serves: it neither reads nor keeps the policies written meanwhile", async () => {
    const { api, gateway: g1 } = roles!;
    const gauge = async (cp: KumaCpProcess, name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${cp.diagnosticsPort}/metrics`)).text();
      return Number(new RegExp(`^${name}\\{projection="current-state"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    };
    const [apiBefore, gatewayBefore] = [await gauge(api, 'kuma_projection_resources'), await gauge(g1, 'kuma_projection_resources')];
    const [apiRead, gatewayRead] = [await gauge(api, 'kuma_projection_events_total'), await gauge(g1, 'kuma_projection_events_total')];
    for (let i = 0; i < 100; i++) {
      const timeout = { type: 'MeshTimeout', mesh: 'default', name: `t-${i}`, spec: { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: `${i + 1}s` } }] } };
      expect((await http(api.url, 'PUT', `/meshes/default/meshtimeouts/t-${i}`, timeout)).status).toBe(201);
    }
    // Then a Dataplane, which the gateway does follow: once it has it, it has passed the policies.
    expect((await http(api.url, 'PUT', '/meshes/default/dataplanes/after-policies', httpDataplane('after-policies', 7001, 'after'))).status).toBe(201);
    const head = await gauge(api, 'kuma_projection_position');
    await eventually(async () => expect(await gauge(g1, 'kuma_projection_position')).toBe(head));
    expect(await gauge(api, 'kuma_projection_resources')).toBe(apiBefore + 101);
    expect(await gauge(g1, 'kuma_projection_resources')).toBe(gatewayBefore + 1);
    expect(gatewayBefore).toBeLessThan(apiBefore);
    // The log filtered the policies out where they are stored: the gateway read one event, the API 101.
    expect(await gauge(api, 'kuma_projection_events_total')).toBe(apiRead + 101);
    expect(await gauge(g1, 'kuma_projection_events_total')).toBe(gatewayRead + 1);
    expect((await http(api.url, 'DELETE', '/meshes/default/dataplanes/after-policies')).status).toBe(200);
  }, 60_000);

  it('refuses to split the roles over the memory fabric, saying how to', async () => {
    const err = await start('gateway', true, { KUMA_FABRIC_TYPE: 'memory' }).then(
      () => 'started',
      (e: Error) => e.message,
    );
    expect(err).toMatch(/separate processes only over a NATS fabric \(KUMA_FABRIC_TYPE=nats/);
  }, 30_000);
});
