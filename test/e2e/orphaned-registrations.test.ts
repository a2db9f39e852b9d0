import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { httpDataplane } from '../../libs/testkit/dataplanes.ts';
import { eventually } from '../../libs/testkit/eventually.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';

/**
 * Dataplanes that kuma-dp registered through a gateway (node metadata `dataplane.resource`)
 * when that gateway dies without a word (SIGKILL): the surviving gateway deregisters those
 * whose proxies did not reconnect elsewhere within the deregistration delay, and keeps the
 * ones that did. Separate processes on a real nats-server: api and projector, and 2 gateways.
 */

const DELAY_MS = 2000;
let nats: NatsServer;
let api: KumaCpProcess;
let g1: KumaCpProcess;
let g2: KumaCpProcess;
const procs: KumaCpProcess[] = [];
const clients: FakeEnvoy[] = [];

const env = () => ({
  KUMA_STORE_TYPE: 'nats',
  KUMA_STORE_NATS_URL: nats.url,
  KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none',
  KUMA_XDS_DATAPLANE_DEREGISTRATION_DELAY: `${DELAY_MS}ms`,
  KUMA_XDS_SERVER_DEBOUNCE: '10ms',
});
const start = async (roles: string, plaintext = false) => {
  const p = await KumaCpProcess.start({ env: env(), args: ['--roles', roles], plaintext });
  procs.push(p);
  return p;
};

/** A proxy that brings its Dataplane, as kuma-dp --dataplane-file does. */
function bringing(name: string, port: number, gateway: KumaCpProcess): FakeEnvoy {
  const c = new FakeEnvoy({
    target: `127.0.0.1:${gateway.dpPlaintextPort}`,
    nodeId: `default.${name}`,
    mode: 'sotw',
    nodeMetadata: { 'dataplane.resource': JSON.stringify(httpDataplane(name, port, name.split('-')[0]!)) },
  });
  clients.push(c);
  return c;
}
const status = async (name: string) => (await http(api.url, 'GET', `/meshes/default/dataplanes/${name}`)).status;

beforeAll(async () => {
  nats = await NatsServer.start();
  // Three processes, not four: each start must be ready within 30 s on a loaded machine.
  api = await start('api,projector');
  [g1, g2] = await Promise.all([start('gateway', true), start('gateway', true)]);
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(procs.map((p) => p.destroy()));
  await nats?.stop();
});

describe('registered Dataplanes of a gateway that died', () => {
  it('are deregistered by the surviving gateway after the delay, unless their proxy reconnected to it', async () => {
    const orphan = bringing('orphan-1', 7001, g1);
    const mover = bringing('mover-1', 7002, g1);
    await Promise.all([orphan, mover].map((c) => c.waitFor((x) => x.names(TypeUrl.Listener).length > 0, 20_000)));
    expect(await status('orphan-1')).toBe(200);
    expect(await status('mover-1')).toBe(200);

    await g1.stop('SIGKILL');
    const killedAt = performance.now();
    orphan.close();
    mover.close();
    // The mover comes back through the other gateway; the orphan never does.
    const moved = bringing('mover-1', 7002, g2);
    await moved.waitFor((x) => x.names(TypeUrl.Listener).includes('inbound:127.0.0.1:7002'), 20_000);

    await eventually(async () => expect(await status('orphan-1')).toBe(404), 30_000, 100);
    expect(performance.now() - killedAt).toBeGreaterThan(DELAY_MS);
    const history = (await http(api.url, 'GET', '/meshes/default/dataplanes/orphan-1/_history')).body as { items: { operation?: string; op?: string; actor: { source: string } }[] };
    expect(history.items.at(-1)?.actor.source).toBe('dp-registration');

    // Well past the delay again, the proxy that reconnected keeps its Dataplane and its config.
    await new Promise((r) => setTimeout(r, DELAY_MS * 2));
    expect(await status('mover-1')).toBe(200);
    expect(moved.error).toBeUndefined();
    expect((await http(api.url, 'GET', '/')).status).toBe(200);
  }, 90_000);
});
