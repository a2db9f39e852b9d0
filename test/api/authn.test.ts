import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { kumactlWithConfig } from '../../libs/testkit/kumactl.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { rawRequest } from '../../libs/testkit/raw-http.ts';

/**
 * User tokens and Kuma's static access through a real kuma-cp, with localhost NOT the admin
 * (`KUMA_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN=false`), so every request here is what a remote
 * caller would be.
 */
let cp: KumaCpProcess;
let admin: string;
let httpsPort: number;

const as = (token: string | undefined, method: string, path: string, body?: unknown) => http(cp.url, method, path, body, token ? { authorization: `Bearer ${token}` } : {});
const head = async () => (await as(admin, 'GET', '/_events?size=1')).body.range.until as number;

beforeAll(async () => {
  httpsPort = await freePort();
  cp = await KumaCpProcess.start({ env: { KUMA_STORE_TYPE: 'memory', KUMA_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN: 'false', KUMA_API_SERVER_HTTPS_ENABLED: 'true', KUMA_API_SERVER_HTTPS_PORT: String(httpsPort) } });
  const file = join(cp.dataDir, 'work', 'admin-user-token');
  admin = readFileSync(file, 'utf8').trim();
  expect(statSync(file).mode & 0o777).toBe(0o600);
}, 60_000);
afterAll(async () => {
  await cp?.destroy();
});

describe('API authentication with user tokens', () => {
  it('answers the index to anyone, and 401 to everything else without a token', async () => {
    expect((await as(undefined, 'GET', '/')).status).toBe(200);
    const res = await as(undefined, 'GET', '/meshes');
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/user token is required/);
    expect((await as(undefined, 'PUT', '/meshes/x', { type: 'Mesh', name: 'x' })).status).toBe(401);
  });

  it('takes the admin token written on first start, and never logs it', async () => {
    expect((await as(admin, 'GET', '/meshes')).status).toBe(200);
    expect(cp.output).not.toContain(admin);
    expect(cp.output).toMatch(/admin-user-token/);
  });

  it('refuses a tampered, malformed or expired token, or a dataplane token, with 401', async () => {
    const before = await head();
    expect((await as(admin.slice(0, -3) + 'AAA', 'GET', '/meshes')).status).toBe(401);
    expect((await http(cp.url, 'GET', '/meshes', undefined, { authorization: 'Basic abc' })).status).toBe(401);
    const dp = (await as(admin, 'POST', '/tokens/dataplane', { name: 'web-1', mesh: 'default' })).body as string;
    expect((await as(dp, 'GET', '/meshes')).status).toBe(401);
    const short = (await as(admin, 'POST', '/tokens/user', { name: 'brief', groups: [], validFor: '1s' })).body as string;
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await as(short, 'GET', '/meshes');
    expect(expired.status).toBe(401);
    expect(expired.body.detail).toMatch(/expired/);
    expect(await head()).toBe(before);
  });

  it('lets an authenticated user write policies as itself, but not secrets or tokens; secret data reads as a digest', async () => {
    const alice = (await as(admin, 'POST', '/tokens/user', { name: 'alice', groups: ['team-a'], validFor: '1h' })).body as string;
    expect((await as(admin, 'PUT', '/meshes/default/secrets/db-password', { type: 'Secret', mesh: 'default', name: 'db-password', data: Buffer.from('s3cr3t').toString('base64') })).status).toBe(201);
    const put = await as(alice, 'PUT', '/meshes/default/meshtimeouts/alice-timeout', { type: 'MeshTimeout', mesh: 'default', name: 'alice-timeout', spec: { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '3s' } }] } });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    const events = (await as(admin, 'GET', '/_events?type=meshtimeouts&name=alice-timeout')).body.items as { actor: { subject: string } }[];
    expect(events.map((e) => e.actor.subject)).toEqual(['alice']);

    const before = await head();
    const write = await as(alice, 'PUT', '/meshes/default/secrets/mine', { type: 'Secret', mesh: 'default', name: 'mine', data: 'YQ==' });
    expect(write.status).toBe(403);
    expect(write.body.detail).toMatch(/user "alice" .* may not change secrets/);
    expect((await as(alice, 'DELETE', '/meshes/default/secrets/db-password')).status).toBe(403);
    expect((await as(alice, 'POST', '/tokens/dataplane', { name: 'web-1', mesh: 'default' })).status).toBe(403);
    expect((await as(alice, 'POST', '/tokens/user', { name: 'mallory', groups: ['mesh-system:admin'] })).status).toBe(403);
    expect(await head()).toBe(before);

    const read = await as(alice, 'GET', '/meshes/default/secrets/db-password');
    expect(read.status).toBe(200);
    expect(read.body.data).not.toBe(Buffer.from('s3cr3t').toString('base64'));
    expect(JSON.stringify((await as(alice, 'GET', '/meshes/default/secrets')).body)).not.toContain(Buffer.from('s3cr3t').toString('base64'));
    expect((await as(admin, 'GET', '/meshes/default/secrets/db-password')).body.data).toBe(Buffer.from('s3cr3t').toString('base64'));
  });

  it('serves the same API over HTTPS (5682 by default) with the generated certificate, tokens required there too', async () => {
    const ca = readFileSync(cp.caCertFile, 'utf8');
    const url = `https://localhost:${httpsPort}/meshes`;
    const ok = await rawRequest({ url, method: 'GET', headers: { authorization: `Bearer ${admin}` }, ca });
    expect(ok.status).toBe(200);
    expect(ok.body.items.map((m: { name: string }) => m.name)).toContain('default');
    expect((await rawRequest({ url, method: 'GET', ca })).status).toBe(401);
    expect(cp.output).toMatch(/API server \(HTTPS\) listening/);
  });

  it('refuses a bad user token request with the field', async () => {
    const res = await as(admin, 'POST', '/tokens/user', { name: '', groups: [1], validFor: 'soon', extra: true });
    expect(res.status).toBe(400);
    const fields = res.body.invalid_parameters.map((p: { field: string }) => p.field).sort();
    expect(fields).toEqual(['extra', 'groups[0]', 'name', 'validFor']);
  });

  it('answers hostile user token requests and Authorization headers with a precise 4xx, stores nothing, and stays up', async () => {
    const before = await head();
    const raw = (body: string, headers: Record<string, string> = { authorization: `Bearer ${admin}` }) =>
      rawRequest({ url: `${cp.url}/tokens/user`, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const deep = await raw(`{"name":"x","groups":${'['.repeat(1000)}${']'.repeat(1000)}}`);
    expect(deep.status).toBe(400);
    expect(deep.body.invalid_parameters[0].reason).toMatch(/nesting/);
    const proto = await raw(`{"name":"x","__proto__":{"groups":["mesh-system:admin"]}}`);
    expect(proto.status).toBe(400);
    expect(proto.body.invalid_parameters[0].reason).toMatch(/__proto__/);
    const wrongTypes = await raw(JSON.stringify({ name: 7, groups: 'mesh-system:admin', validFor: 3600 }));
    expect(wrongTypes.status).toBe(400);
    expect(wrongTypes.body.invalid_parameters.map((p: { field: string }) => p.field).sort()).toEqual(['groups', 'name', 'validFor']);
    const huge = await raw(JSON.stringify({ name: 'x'.repeat(1024 * 1024) }));
    expect(huge.status).toBe(413);
    const hugeToken = await raw(JSON.stringify({ name: 'x' }), { authorization: `Bearer ${'a'.repeat(64 * 1024)}` });
    // Node's header limit (16 KiB) refuses it before any token is parsed.
    expect(hugeToken.status).toBe(431);
    expect(await head()).toBe(before);
    expect((await as(admin, 'GET', '/')).status).toBe(200);
  });
});

describe('kumactl with user tokens', () => {
  it('adds a control plane with --auth-type=tokens, checks the token, generates user and dataplane tokens, and is refused without one', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kumactl-authn-'));
    const config = join(home, 'config');
    const k = (args: string[]) => kumactlWithConfig(config, home, args);
    const bad = await k(['config', 'control-planes', 'add', '--name', 'cp', '--address', cp.url, '--auth-type', 'tokens', '--auth-conf', 'token=garbage']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid user token/);
    const add = await k(['config', 'control-planes', 'add', '--name', 'cp', '--address', cp.url, '--auth-type', 'tokens', '--auth-conf', `token=${admin}`]);
    expect(add.code, add.stderr).toBe(0);
    expect(statSync(config).mode & 0o077).toBe(0);
    const user = await k(['generate', 'user-token', '--name', 'bob', '--group', 'team-b', '--valid-for', '1h']);
    expect(user.code, user.stderr).toBe(0);
    expect((await as(user.stdout.trim(), 'GET', '/meshes')).status).toBe(200);
    const dp = await k(['generate', 'dataplane-token', '--name', 'web-1', '--mesh', 'default', '--tag', 'kuma.io/service=web', '--valid-for', '24h']);
    expect(dp.code, dp.stderr).toBe(0);
    expect(JSON.parse(Buffer.from(dp.stdout.trim().split('.')[1]!, 'base64url').toString())).toMatchObject({ Name: 'web-1', Mesh: 'default', Tags: { 'kuma.io/service': ['web'] } });
    const none = await k(['config', 'control-planes', 'add', '--name', 'anon', '--address', cp.url]);
    expect(none.code, none.stderr).toBe(0);
    const refused = await k(['get', 'meshes']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/user token is required/);
  }, 60_000);
});
