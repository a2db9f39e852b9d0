import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { rawRequest } from '../../libs/testkit/raw-http.ts';
import { newSigningKeySecretData } from '../../libs/tokens/signing-keys.ts';

/**
 * Hostile input on the data plane port (`POST /bootstrap`, listening on 0.0.0.0) and in ADS
 * node metadata: the token is checked before anything else is parsed, parsing is bounded, and
 * a token bound to tags only serves Dataplanes with those tags (as Kuma's authenticator).
 */
let cp: KumaCpProcess;
let ca: string;
const clients: FakeEnvoy[] = [];

const dataplane = (name: string, service: string) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: { address: '127.0.0.1', inbound: [{ port: 7070, servicePort: 7071, tags: { 'kuma.io/service': service } }] },
});
const token = async (body: Record<string, unknown>) => {
  const res = await http(cp.url, 'POST', '/tokens/dataplane', body);
  expect(res.status).toBe(200);
  return res.body as string;
};
const deepJson = '{"a":'.repeat(1000) + '1' + '}'.repeat(1000);

const bootstrap = (body: Record<string, unknown>) =>
  rawRequest({ url: `https://localhost:${cp.dpPort}/bootstrap`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ca });

async function head(): Promise<number> {
  return (await http(cp.url, 'GET', '/_events?size=1')).body.range.until as number;
}

async function expectAlive(): Promise<void> {
  expect((await http(cp.url, 'GET', '/')).status, cp.output.slice(-2000)).toBe(200);
}

/** An ADS stream that sends one request and is then closed by the server; resolves with its error. */
async function adsError(opts: { nodeId: string; token?: string; nodeMetadata?: Record<string, unknown> }) {
  const c = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, mode: 'sotw', ...opts });
  clients.push(c);
  await c.waitFor(() => false, 10_000).catch(() => undefined);
  return c.error;
}

beforeAll(async () => {
  cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'memory' } });
  ca = readFileSync(cp.caCertFile, 'utf8');
});
afterAll(async () => {
  for (const c of clients) c.close();
  await cp?.destroy();
});

describe('POST /bootstrap under hostile input', () => {
  it('checks the token before parsing dataplaneResource: a deeply nested one without a token is a 401 (it used to abort the process)', async () => {
    const before = await head();
    const res = await bootstrap({ mesh: 'default', name: 'web-1', dataplaneResource: deepJson });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ type: '/std-errors', status: 401, detail: expect.stringMatching(/dataplane token is required/) });
    await expectAlive();
    expect(await head()).toBe(before);
  });

  it('bounds dataplaneResource with a valid token too, and refuses prototype keys in it', async () => {
    const t = await token({ name: 'web-1', mesh: 'default' });
    const before = await head();
    const deep = await bootstrap({ mesh: 'default', name: 'web-1', dataplaneToken: t, dataplaneResource: deepJson });
    expect(deep.status).toBe(401);
    expect(deep.body.detail).toMatch(/could not parse dataplane.resource: .*nesting is deeper than 100 levels/);
    const proto = await bootstrap({ mesh: 'default', name: 'web-1', dataplaneToken: t, dataplaneResource: `{"__proto__":{"networking":{}},"type":"Dataplane","mesh":"default","name":"web-1"}` });
    expect(proto.status).toBe(401);
    expect(proto.body.detail).toMatch(/__proto__: "__proto__" is not allowed as a key/);
    await expectAlive();
    expect(await head()).toBe(before);
  });

  it('refuses a request without mesh and name, and a request body nested too deep, naming the field', async () => {
    const missing = await bootstrap({ dataplaneResource: JSON.stringify(dataplane('web-1', 'web')) });
    expect(missing.status).toBe(400);
    expect(missing.body.invalid_parameters.map((p: { field: string }) => p.field)).toEqual(['mesh', 'name']);
    const deepBody = await rawRequest({ url: `https://localhost:${cp.dpPort}/bootstrap`, method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"mesh":"default","name":"web-1","version":${deepJson}}`, ca });
    expect(deepBody.status).toBe(400);
    expect(deepBody.body.invalid_parameters[0]).toMatchObject({ field: 'body', reason: expect.stringMatching(/nesting/) });
    await expectAlive();
  });

  it('enforces a token bound to tags against the Dataplane it brings (it accepted any service)', async () => {
    const web = await token({ mesh: 'default', tags: { 'kuma.io/service': ['web'] } });
    const other = await bootstrap({ mesh: 'default', name: 'db-1', dataplaneToken: web, dataplaneResource: JSON.stringify(dataplane('db-1', 'db')) });
    expect(other.status).toBe(401);
    expect(other.body.detail).toMatch(/dataplane contains tag "kuma.io\/service" with value "db" which is not allowed with this token/);
    const ok = await bootstrap({ mesh: 'default', name: 'web-2', dataplaneToken: web, dataplaneResource: JSON.stringify(dataplane('web-2', 'web')) });
    expect(ok.status).toBe(200);
    expect(ok.body.bootstrap.node.id).toBe('default.web-2');
  });
});

describe('ADS node metadata under hostile input', () => {
  it('refuses a Dataplane of another service with a token bound to tags, and registers nothing', async () => {
    const web = await token({ mesh: 'default', tags: { 'kuma.io/service': ['web'] } });
    const before = await head();
    const err = await adsError({ nodeId: 'default.db-2', token: web, nodeMetadata: { 'dataplane.resource': JSON.stringify(dataplane('db-2', 'db')) } });
    expect(err?.code).toBe(16);
    expect(err?.details).toMatch(/not allowed with this token/);
    expect((await http(cp.url, 'GET', '/meshes/default/dataplanes/db-2')).status).toBe(404);
    expect(await head()).toBe(before);
  });

  it('refuses a token bound to tags when the proxy has no Dataplane to check them against', async () => {
    const web = await token({ mesh: 'default', tags: { 'kuma.io/service': ['web'] } });
    const err = await adsError({ nodeId: 'default.ghost', token: web });
    expect(err?.code).toBe(16);
    expect(err?.details).toMatch(/no Dataplane to check them against/);
  });

  it('bounds dataplane.resource with any valid token: a deeply nested one closes the stream, the process stays up', async () => {
    const t = await token({ name: 'deep-1', mesh: 'default' });
    const before = await head();
    const err = await adsError({ nodeId: 'default.deep-1', token: t, nodeMetadata: { 'dataplane.resource': deepJson } });
    expect(err?.code).toBe(16);
    expect(err?.details).toMatch(/nesting is deeper than 100 levels/);
    await expectAlive();
    expect(await head()).toBe(before);
  });

  it('still registers a Dataplane whose tags the token allows', async () => {
    const web = await token({ mesh: 'default', tags: { 'kuma.io/service': ['web'] } });
    const c = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, mode: 'sotw', nodeId: 'default.web-3', token: web, nodeMetadata: { 'dataplane.resource': JSON.stringify(dataplane('web-3', 'web')) } });
    clients.push(c);
    await c.waitFor((x) => x.names('type.googleapis.com/envoy.config.listener.v3.Listener').length > 0, 15_000);
    expect((await http(cp.url, 'GET', '/meshes/default/dataplanes/web-3')).status).toBe(200);
  });

  it("revokes a token through Kuma's revocation Secret: its live stream closes, and it is refused from then on", async () => {
    const t = await token({ name: 'web-9', mesh: 'default' });
    const jti = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).jti as string;
    const c = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, mode: 'sotw', nodeId: 'default.web-9', token: t, nodeMetadata: { 'dataplane.resource': JSON.stringify(dataplane('web-9', 'web')) } });
    clients.push(c);
    await c.waitFor((x) => x.names('type.googleapis.com/envoy.config.listener.v3.Listener').length > 0, 15_000);
    const other = await token({ name: 'web-10', mesh: 'default' });
    const secret = { type: 'Secret', mesh: 'default', name: 'dataplane-token-revocations-default', data: Buffer.from(`some-other-id,${jti}`).toString('base64') };
    expect((await http(cp.url, 'PUT', '/meshes/default/secrets/dataplane-token-revocations-default', secret)).status).toBe(201);
    await c.waitFor((x) => x.error !== undefined, 10_000);
    expect(c.error?.code).toBe(16);
    expect(c.error?.details).toMatch(/revoked/);
    const again = await bootstrap({ mesh: 'default', name: 'web-9', dataplaneToken: t, dataplaneResource: JSON.stringify(dataplane('web-9', 'web')) });
    expect(again.status).toBe(401);
    expect(again.body.detail).toMatch(/has been revoked/);
    // Other tokens are untouched.
    expect((await bootstrap({ mesh: 'default', name: 'web-10', dataplaneToken: other, dataplaneResource: JSON.stringify(dataplane('web-10', 'web')) })).status).toBe(200);
  });

  it('rotates the signing key as Kuma: tokens of key 1 work until it is deleted, then their streams close; new tokens use key 2', async () => {
    const t1 = await token({ name: 'web-11', mesh: 'default' });
    const kidOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).kid as string;
    expect(kidOf(t1)).toBe('1');
    const c = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, mode: 'sotw', nodeId: 'default.web-11', token: t1, nodeMetadata: { 'dataplane.resource': JSON.stringify(dataplane('web-11', 'web')) } });
    clients.push(c);
    await c.waitFor((x) => x.names('type.googleapis.com/envoy.config.listener.v3.Listener').length > 0, 15_000);
    const key2 = { type: 'GlobalSecret', name: 'dataplane-token-signing-key-2', data: newSigningKeySecretData() };
    expect((await http(cp.url, 'PUT', '/global-secrets/dataplane-token-signing-key-2', key2)).status).toBe(201);
    const t2 = await token({ name: 'web-12', mesh: 'default' });
    expect(kidOf(t2)).toBe('2');
    const boot = (name: string, t: string) => bootstrap({ mesh: 'default', name, dataplaneToken: t, dataplaneResource: JSON.stringify(dataplane(name, 'web')) });
    expect((await boot('web-11', t1)).status).toBe(200);
    expect(c.error).toBeUndefined();
    expect((await http(cp.url, 'DELETE', '/global-secrets/dataplane-token-signing-key-1')).status).toBe(200);
    await c.waitFor((x) => x.error !== undefined, 10_000);
    expect(c.error?.code).toBe(16);
    expect(c.error?.details).toMatch(/signing key 1 was deleted/);
    const refused = await boot('web-11', t1);
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toMatch(/signing key 1 does not exist/);
    expect((await boot('web-12', t2)).status).toBe(200);
  });
});
