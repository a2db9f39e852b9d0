import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';

/**
 * Demands for by-name resources (`_want.<mesh>.<service>.<gateway>`) of a gateway that dies
 * without a word (SIGKILL): a surviving gateway removes them after the grace period (the
 * deregistration delay), so the projector stops publishing what only the dead gateway's
 * clients asked for, while the survivors' own demands stay. Separate processes on a real
 * nats-server: api and projector, and 2 gateways.
 */

const GRACE_MS = 2000;
let nats: NatsServer;
let nc: NatsConnection;
let kv: KV;
let api: KumaCpProcess;
let g1: KumaCpProcess;
let g2: KumaCpProcess;
const procs: KumaCpProcess[] = [];
const clients: FakeEnvoy[] = [];

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url').toString('utf8');
const env = () => ({
  KUMA_STORE_TYPE: 'nats',
  KUMA_STORE_NATS_URL: nats.url,
  KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none',
  KUMA_XDS_DATAPLANE_DEREGISTRATION_DELAY: `${GRACE_MS}ms`,
  KUMA_XDS_SERVER_DEBOUNCE: '10ms',
});
const start = async (roles: string, plaintext = false) => {
  const p = await KumaCpProcess.start({ env: env(), args: ['--roles', roles], plaintext });
  procs.push(p);
  return p;
};
const dp = (name: string, port: number, service: string, protocol = 'grpc') => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: { address: '127.0.0.1', inbound: [{ port, tags: { 'kuma.io/service': service, 'kuma.io/protocol': protocol } }] },
});
const put = async (name: string, port: number, service: string, protocol?: string) =>
  expect((await http(api.url, 'PUT', `/meshes/default/dataplanes/${name}`, dp(name, port, service, protocol))).status).toBeLessThan(300);

/** Every demand key: service and gateway. */
async function demands(): Promise<{ service: string; gateway: string }[]> {
  const out: { service: string; gateway: string }[] = [];
  for await (const key of await kv.keys('_want.>')) {
    const [, , service, gateway] = key.split('.');
    out.push({ service: unb64(service!), gateway: unb64(gateway!) });
  }
  return out.sort((a, b) => `${a.service}/${a.gateway}`.localeCompare(`${b.service}/${b.gateway}`));
}
/** The revision of a service's by-name resources (0: never published): it moves on each publication. */
const published = async (service: string) => (await kv.get(`_svc.${b64('default')}.${b64(service)}`))?.revision ?? 0;

function askingByName(gateway: KumaCpProcess, proxy: string, services: string[]): FakeEnvoy {
  const c = new FakeEnvoy({ target: `127.0.0.1:${gateway.dpPlaintextPort}`, nodeId: `default.${proxy}`, mode: 'sotw' });
  clients.push(c);
  c.subscribe(TypeUrl.Listener, services);
  return c;
}
const served = (c: FakeEnvoy) => c.names(TypeUrl.Listener).filter((n) => !n.startsWith('inbound:'));

beforeAll(async () => {
  nats = await NatsServer.start();
  api = await start('api,projector');
  [g1, g2] = await Promise.all([start('gateway', true), start('gateway', true)]);
  nc = await connect({ servers: nats.url });
  kv = await new Kvm(nc).open('KUMA_EVENTS_XDS_MANIFESTS');
  await put('greeter-1', 7101, 'greeter');
  await put('lonely-1', 7102, 'lonely');
  await put('client-1', 7103, 'client');
  await put('client-2', 7104, 'client');
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await nc?.close();
  await Promise.all(procs.map((p) => p.destroy()));
  await nats?.stop();
});

describe('demands for by-name resources of a gateway that died', () => {
  it('are removed by a surviving gateway after the grace period; the projector stops publishing what only it asked for', async () => {
    // Through g1, a client asks for greeter and lonely; through g2, another asks for greeter.
    const one = askingByName(g1, 'client-1', ['greeter', 'lonely']);
    const two = askingByName(g2, 'client-2', ['greeter']);
    await one.waitFor((c) => served(c).length === 2, 20_000);
    await two.waitFor((c) => served(c).length === 1, 20_000);
    const before = await demands();
    expect(before.map((d) => d.service)).toEqual(['greeter', 'greeter', 'lonely']);
    const dead = before.find((d) => d.service === 'lonely')!.gateway;
    const survivor = before.find((d) => d.gateway !== dead)!.gateway;

    // While demanded, a change of lonely (its protocol: a new Listener and Cluster) is published.
    const first = await published('lonely');
    await put('lonely-1', 7102, 'lonely', 'http');
    await expect.poll(() => published('lonely'), { timeout: 10_000 }).toBeGreaterThan(first);

    await g1.stop('SIGKILL');
    const killedAt = performance.now();
    one.close();
    await expect.poll(demands, { timeout: 30_000, interval: 200 }).toEqual([{ service: 'greeter', gateway: survivor }]);
    expect(performance.now() - killedAt).toBeGreaterThan(GRACE_MS);

    // Nobody asks for lonely any more: a change of it is not published, while greeter's (still
    // asked for through g2) is. lonely changes first, and the projector applies events in order.
    const lonelyAt = await published('lonely');
    const greeterAt = await published('greeter');
    await put('lonely-1', 7102, 'lonely', 'grpc');
    await put('greeter-1', 7101, 'greeter', 'http');
    await expect.poll(() => published('greeter'), { timeout: 10_000 }).toBeGreaterThan(greeterAt);
    await new Promise((r) => setTimeout(r, 500));
    expect(await published('lonely')).toBe(lonelyAt);
    expect(served(two)).toEqual(['greeter']);
    expect(two.error).toBeUndefined();
  }, 90_000);
});
