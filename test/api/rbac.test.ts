import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';

/**
 * Kong Mesh's RBAC (`KUMA_ACCESS_TYPE=rbac`) through a real kuma-cp, with localhost not the
 * admin: AccessRoles and AccessRoleBindings decide every write and token generation per type,
 * name, mesh and policy targetRef; a Secret's data needs the right to change it; nothing is
 * stored on a refusal.
 */
let cp: KumaCpProcess;
let admin: string;
let alice: string;
let bob: string;

const as = (token: string | undefined, method: string, path: string, body?: unknown) => http(cp.url, method, path, body, token ? { authorization: `Bearer ${token}` } : {});
const head = async () => (await as(admin, 'GET', '/_events?size=1')).body.range.until as number;
const timeout = (mesh: string, name: string, targetRef: Record<string, unknown> = { kind: 'Mesh' }) => ({
  type: 'MeshTimeout',
  mesh,
  name,
  spec: { targetRef, to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '2s' } }] },
});

beforeAll(async () => {
  cp = await KumaCpProcess.start({ env: { KUMA_STORE_TYPE: 'memory', KUMA_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN: 'false', KUMA_ACCESS_TYPE: 'rbac' } });
  admin = readFileSync(join(cp.dataDir, 'work', 'admin-user-token'), 'utf8').trim();
  alice = (await as(admin, 'POST', '/tokens/user', { name: 'alice', groups: ['team-a'], validFor: '1h' })).body as string;
  bob = (await as(admin, 'POST', '/tokens/user', { name: 'bob', groups: [], validFor: '1h' })).body as string;
  for (const mesh of ['team-a', 'team-b']) expect((await as(admin, 'PUT', `/meshes/${mesh}`, { type: 'Mesh', name: mesh })).status).toBe(201);
  expect((await as(admin, 'PUT', '/meshes/team-a/secrets/db-password', { type: 'Secret', mesh: 'team-a', name: 'db-password', data: Buffer.from('hunter2').toString('base64') })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await cp?.destroy();
});

describe('RBAC with AccessRole and AccessRoleBinding', () => {
  it("creates Kong Mesh's admin role, bound to mesh-system:admin only; everyone else reads but may not write", async () => {
    expect((await as(admin, 'GET', '/access-roles/admin')).body).toMatchObject({ type: 'AccessRole', name: 'admin', rules: [{ access: expect.arrayContaining(['CREATE', 'GENERATE_DATAPLANE_TOKEN']) }] });
    expect((await as(admin, 'GET', '/access-role-bindings/default')).body).toMatchObject({ subjects: [{ type: 'Group', name: 'mesh-system:admin' }], roles: ['admin'] });
    const before = await head();
    expect((await as(bob, 'GET', '/meshes/team-a/meshtimeouts')).status).toBe(200);
    const res = await as(bob, 'PUT', '/meshes/team-a/meshtimeouts/t1', timeout('team-a', 't1'));
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/user "bob" .* may not create MeshTimeout team-a\/t1: no AccessRole/);
    expect((await as(bob, 'POST', '/tokens/dataplane', { name: 'web-1', mesh: 'team-a' })).status).toBe(403);
    expect((await as(bob, 'POST', '/tokens/user', { name: 'eve', groups: ['mesh-system:admin'] })).status).toBe(403);
    expect((await as(bob, 'PUT', '/access-role-bindings/mine', { type: 'AccessRoleBinding', name: 'mine', subjects: [{ type: 'User', name: 'bob' }], roles: ['admin'] })).status).toBe(403);
    expect(await head()).toBe(before);
  });

  it('grants per type, mesh, name and targetRef, and a Secret data read only to who may change it', async () => {
    const role = {
      type: 'AccessRole',
      name: 'team-a',
      rules: [
        { types: ['MeshTimeout'], mesh: 'team-a', access: ['CREATE', 'UPDATE', 'DELETE'], when: [{ targetRef: { kind: 'MeshService', name: 'backend' } }] },
        { types: ['MeshRetry'], names: ['only-this'], access: ['CREATE'] },
        { mesh: 'team-a', access: ['GENERATE_DATAPLANE_TOKEN', 'VIEW_CONFIG_DUMP'] },
      ],
    };
    expect((await as(admin, 'PUT', '/access-roles/team-a', role)).status).toBe(201);
    expect((await as(admin, 'PUT', '/access-role-bindings/team-a', { type: 'AccessRoleBinding', name: 'team-a', subjects: [{ type: 'Group', name: 'team-a' }], roles: ['team-a'] })).status).toBe(201);

    expect((await as(alice, 'PUT', '/meshes/team-a/meshtimeouts/t1', timeout('team-a', 't1', { kind: 'MeshService', name: 'backend' }))).status).toBe(201);
    const before = await head();
    // Another targetRef, another mesh, another type or name: refused, nothing stored.
    expect((await as(alice, 'PUT', '/meshes/team-a/meshtimeouts/t2', timeout('team-a', 't2'))).status).toBe(403);
    expect((await as(alice, 'PUT', '/meshes/team-a/meshtimeouts/t1', timeout('team-a', 't1'))).status).toBe(403);
    expect((await as(alice, 'PUT', '/meshes/team-b/meshtimeouts/t1', timeout('team-b', 't1', { kind: 'MeshService', name: 'backend' }))).status).toBe(403);
    expect((await as(alice, 'PUT', '/meshes/team-a/secrets/mine', { type: 'Secret', mesh: 'team-a', name: 'mine', data: 'YQ==' })).status).toBe(403);
    expect((await as(alice, 'POST', '/tokens/dataplane', { name: 'web-1', mesh: 'team-b' })).status).toBe(403);
    expect((await as(alice, 'GET', '/meshes/team-a/secrets/db-password')).body.data).not.toBe(Buffer.from('hunter2').toString('base64'));
    expect(await head()).toBe(before);
    const retry = { type: 'MeshRetry', mesh: 'team-b', name: 'only-this', spec: { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { tcp: { maxConnectAttempt: 2 } } }] } };
    expect((await as(alice, 'PUT', '/meshes/team-b/meshretries/only-this', retry)).status).toBe(201);
    expect((await as(alice, 'PUT', '/meshes/team-b/meshretries/other', { ...retry, name: 'other' })).status).toBe(403);
    // Only CREATE was granted for that name: no update, no delete.
    expect((await as(alice, 'PUT', '/meshes/team-b/meshretries/only-this', retry)).status).toBe(403);
    expect((await as(alice, 'DELETE', '/meshes/team-b/meshretries/only-this')).status).toBe(403);
    expect((await as(alice, 'POST', '/tokens/dataplane', { name: 'web-1', mesh: 'team-a' })).status).toBe(200);
    expect((await as(alice, 'DELETE', '/meshes/team-a/meshtimeouts/t1')).status).toBe(200);
    // The admin reads the data.
    expect((await as(admin, 'GET', '/meshes/team-a/secrets/db-password')).body.data).toBe(Buffer.from('hunter2').toString('base64'));
  });

  it('refuses a malformed AccessRole or AccessRoleBinding with the field path, and stores nothing', async () => {
    const before = await head();
    const bad = await as(admin, 'PUT', '/access-roles/bad', { type: 'AccessRole', name: 'bad', rules: [{ access: ['OWN'], when: [{ targetRef: {} }], extra: 1 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.invalid_parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'rules[0].access[0]', reason: expect.stringMatching(/must be one of: CREATE/) }),
        expect.objectContaining({ field: 'rules[0].when[0].targetRef.kind', reason: 'must be defined' }),
        expect.objectContaining({ field: 'rules[0].extra', reason: 'unknown field' }),
      ]),
    );
    const binding = await as(admin, 'PUT', '/access-role-bindings/bad', { type: 'AccessRoleBinding', name: 'bad', subjects: [{ type: 'Robot', name: '' }], roles: [] });
    expect(binding.status).toBe(400);
    expect(binding.body.invalid_parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'subjects[0].type' }),
        expect.objectContaining({ field: 'subjects[0].name' }),
        expect.objectContaining({ field: 'roles', reason: 'must have at least one element' }),
      ]),
    );
    expect(await head()).toBe(before);
  });
});
