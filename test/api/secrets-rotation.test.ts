import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyFile } from '../../libs/secrets/keyring.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';

/**
 * `kuma-cp encryption rotate-key` on the embedded store: the new key becomes primary, every
 * current secret gets a version sealed under it, a checkpoint is saved, and once that is done
 * the process starts and serves every current secret with the old key removed.
 */

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The key id each confidential resource's latest event in the raw log is sealed under. */
async function latestKids(dataDir: string): Promise<Map<string, string>> {
  const db = new ClassicLevel<string, string>(join(dataDir, 'store'), { valueEncoding: 'utf8' });
  const out = new Map<string, string>();
  for await (const [k, v] of db.iterator({ gte: 'e!', lt: 'e!\xff' })) {
    const e = JSON.parse(v) as { type: string; name: string; op: string; resource?: { spec: { $sealed?: { kid: string } } } };
    if (e.op === 'upsert' && e.resource?.spec.$sealed) out.set(`${e.type}/${e.name}`, e.resource.spec.$sealed.kid);
    void k;
  }
  await db.close();
  return out;
}

describe('kuma-cp encryption rotate-key', () => {
  let cp: KumaCpProcess;
  let keyFile: string;
  let oldId: string;
  let signingKey: string;
  const plain = `rotate-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    cp = await KumaCpProcess.start();
    keyFile = join(cp.dataDir, 'work', 'store-encryption.key');
    oldId = parseKeyFile(readFileSync(keyFile, 'utf8'), keyFile).primary.id;
    expect((await http(cp.url, 'PUT', '/meshes/default/secrets/s1', { type: 'Secret', mesh: 'default', name: 's1', data: b64(plain) })).status).toBe(201);
    signingKey = (await http(cp.url, 'GET', '/global-secrets/dataplane-token-signing-key-1')).body.data;
  }, 60_000);
  afterAll(async () => cp?.destroy());

  it('refuses while kuma-cp holds the embedded store, changing nothing', async () => {
    const before = readFileSync(keyFile, 'utf8');
    const r = await cp.exec(['encryption', 'rotate-key', '--new-key-file', join(cp.dataDir, 'unused.key')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/another kuma-cp/);
    expect(readFileSync(keyFile, 'utf8')).toBe(before);
  }, 30_000);

  it('makes the new key primary, re-encrypts every current secret once, and the old key can go', async () => {
    expect(await cp.stop()).toBe(0);
    const newKeyFile = join(cp.dataDir, 'new.key');
    const r = await cp.exec(['encryption', 'rotate-key', '--new-key-file', newKeyFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(newKeyFile).mode & 0o777).toBe(0o600);
    const newId = parseKeyFile(readFileSync(newKeyFile, 'utf8'), newKeyFile).primary.id;
    const ring = parseKeyFile(readFileSync(keyFile, 'utf8'), keyFile);
    expect(ring.ids()).toEqual([newId, oldId]);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(r.stdout).toContain('re-encrypted 4 secret(s)');
    expect(r.stdout).toContain('Secret default/s1');
    expect(r.stdout).toContain('GlobalSecret dataplane-token-signing-key-1');
    expect([...(await latestKids(cp.dataDir)).values()].every((kid) => kid === newId)).toBe(true);

    // A second run finds nothing left to do.
    const again = await cp.exec(['encryption', 'rotate-key', '--new-key-file', newKeyFile]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('re-encrypted 0 secret(s) (4 already under the new key)');

    // Retire the old key: the start loads the checkpoint the rotation saved, sealed under the new one.
    writeFileSync(keyFile, readFileSync(newKeyFile), { mode: 0o600 });
    await cp.restart();
    expect((await http(cp.url, 'GET', '/meshes/default/secrets/s1')).body.data).toBe(b64(plain));
    expect((await http(cp.url, 'GET', '/global-secrets/dataplane-token-signing-key-1')).body.data).toBe(signingKey);
    const history = await http(cp.url, 'GET', '/meshes/default/secrets/s1/_history');
    expect(history.status).toBe(500); // the version before the rotation needs the retired key (README)
    expect(JSON.stringify(history.body)).not.toContain(b64(plain));
  }, 90_000);
});
