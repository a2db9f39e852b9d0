import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';

/**
 * A proxyless client can ask for any number of names: a gateway follows at most
 * maxByNameServicesPerStream distinct ones per stream and maxByNameServicesPerGateway over all
 * its streams; the rest are not served (absent, as xDS allows), with one warning per stream and
 * a counter. A real kuma-cp, fake SotW clients asking by name.
 */
const PER_STREAM = 3;
const PER_GATEWAY = 4;
const WARNING = 'too many services asked for by name';

let cp: KumaCpProcess;
const clients: FakeEnvoy[] = [];
const dp = (name: string, port: number, service: string) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: { address: '127.0.0.1', inbound: [{ port, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'grpc' } }] },
});
const put = async (name: string, port: number, service: string) => expect((await http(cp.url, 'PUT', `/meshes/default/dataplanes/${name}`, dp(name, port, service))).status).toBeLessThan(300);

function client(name: string, services: string[]): FakeEnvoy {
  const c = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: `default.${name}`, mode: 'sotw' });
  clients.push(c);
  c.subscribe(TypeUrl.Listener, services);
  return c;
}
/** The services a client is served by name (its own inbound listeners aside). */
const served = (c: FakeEnvoy) => c.names(TypeUrl.Listener).filter((n) => !n.startsWith('inbound:'));
const warnings = (proxy: string) => cp.output.split('\n').filter((l) => l.includes(WARNING) && l.includes(`"default.${proxy}"`)).length;
async function refused(limit: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${cp.diagnosticsPort}/metrics`)).text();
  return Number(new RegExp(`^kuma_xds_by_name_refused_total\\{limit="${limit}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

beforeAll(async () => {
  cp = await KumaCpProcess.start({
    plaintext: true,
    env: {
      KUMA_STORE_TYPE: 'memory',
      KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none',
      KUMA_XDS_SERVER_DEBOUNCE: '5ms',
      KUMA_DP_SERVER_MAX_BY_NAME_SERVICES_PER_STREAM: String(PER_STREAM),
      KUMA_DP_SERVER_MAX_BY_NAME_SERVICES_PER_GATEWAY: String(PER_GATEWAY),
    },
  });
  for (let i = 1; i <= 5; i++) await put(`s${i}-1`, 9100 + i, `s${i}`);
  await put('client-1', 9201, 'client-a');
  await put('client-2', 9202, 'client-b');
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await cp?.destroy();
});

describe('bounds on services asked for by name', () => {
  it('serves at most the per-stream bound of names, then at most the gateway bound over all streams, and frees places when streams go', async () => {
    const a = client('client-1', ['s1', 's2', 's3', 's4']);
    await a.waitFor((c) => served(c).length > 0, 15_000);
    // One response carries every service asked for that is served (responses wait for them all).
    expect(served(a)).toEqual(['s1', 's2', 's3']);
    expect(await refused('stream')).toBe(1);
    // More names on the same stream: refused again, counted, but warned about once per stream.
    a.subscribe(TypeUrl.Listener, ['s1', 's2', 's3', 's4', 's5']);
    await expect.poll(() => refused('stream'), { timeout: 5000 }).toBe(3);
    expect(served(a)).toEqual(['s1', 's2', 's3']);

    // Another stream: s4 is a fourth service for the gateway (the bound), s5 would be a fifth.
    const b = client('client-2', ['s4', 's5']);
    await b.waitFor((c) => served(c).length > 0, 15_000);
    expect(served(b)).toEqual(['s4']);
    expect(await refused('gateway')).toBe(1);
    // Services the gateway already follows are served to any stream.
    b.subscribe(TypeUrl.Listener, ['s4', 's5', 's1']);
    await b.waitFor((c) => served(c).includes('s1'), 15_000);
    expect(served(b)).toEqual(['s1', 's4']);

    // The first stream goes: s2 and s3 are no longer followed, and s5 fits.
    a.close();
    await expect.poll(() => cp.output.split('\n').some((l) => l.includes('proxy disconnected') && l.includes('"default.client-1"')), { timeout: 10_000 }).toBe(true);
    b.subscribe(TypeUrl.Listener, ['s4', 's5', 's2']);
    await b.waitFor((c) => served(c).includes('s5'), 15_000);
    expect(served(b)).toEqual(['s2', 's4', 's5']);
    expect(warnings('client-1')).toBe(1);
    expect(warnings('client-2')).toBe(1);
    expect((await http(cp.url, 'GET', '/')).status).toBe(200);
  }, 60_000);
});
