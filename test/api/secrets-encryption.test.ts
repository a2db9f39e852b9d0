import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { connect } from '@nats-io/transport-node';
import { ClassicLevel } from 'classic-level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../libs/testkit/eventually.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess, sharedStoreKeyFile } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';

/**
 * Secret data is in the log (the source of truth) only encrypted, and shown in the clear only by
 * the live read of the resource itself: not on disk, not in checkpoints, not in the audit feed,
 * its export, history, diffs or time travel. Against a real kuma-cp on the embedded store and a
 * real nats-server.
 */

/** A secret value whose base64 form is distinctive, so any copy of it is found. */
const marker = () => `s3cr3t-${randomBytes(12).toString('hex')}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (name: string, plain: string) => ({ type: 'Secret', mesh: 'default', name, data: b64(plain) });

const WEB_1 = { type: 'Dataplane', mesh: 'default', name: 'web-1', networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }] } };

/** Every file under `dir`, recursively, as bytes. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile())
    .map((path) => ({ path, bytes: readFileSync(path) }));
}

/** POST /bootstrap on the data plane server with a token: 200 when it verifies, 401 when it does not. */
function bootstrap(cp: KumaCpProcess, token: string): Promise<number> {
  const dataplaneResource = JSON.stringify(WEB_1);
  const body = JSON.stringify({ mesh: 'default', name: 'web-1', dataplaneToken: token, dataplaneResource });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: cp.dpPort, path: '/bootstrap', method: 'POST', ca: readFileSync(cp.caCertFile), servername: 'localhost', headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('Secrets on the embedded store', () => {
  let cp: KumaCpProcess;
  const first = marker();
  const second = marker();
  let signingKey: string;
  let token: string;
  let secretSeq: number;

  beforeAll(async () => {
    cp = await KumaCpProcess.start({ env: { KUMA_STORE_CHECKPOINTS_INTERVAL: '2', KUMA_LOG_LEVEL: 'debug' } });
    expect((await http(cp.url, 'PUT', '/meshes/default/secrets/db-password', secret('db-password', first))).status).toBe(201);
    secretSeq = Number((await http(cp.url, 'GET', '/meshes/default/secrets/db-password')).headers.get('etag')!.replace(/"/g, ''));
    expect((await http(cp.url, 'PUT', '/meshes/default/secrets/db-password', secret('db-password', second))).status).toBe(200);
    // A rejected write carrying secret data: its reason must not echo the data, nor may the logs.
    expect((await http(cp.url, 'PUT', '/meshes/default/secrets/bad', { ...secret('bad', first), extra: b64(first) })).status).toBe(400);
    const malformed = await http(cp.url, 'PUT', '/meshes/default/secrets/bad', `{"type":"Secret","mesh":"default","name":"bad","data": ${b64(first)}}`, { 'content-type': 'application/json' });
    expect(malformed.status).toBe(400);
    expect((await http(cp.url, 'PUT', '/meshes/default/dataplanes/web-1', WEB_1)).status).toBe(201);
    signingKey = (await http(cp.url, 'GET', '/global-secrets/dataplane-token-signing-key-1')).body.data;
    expect(signingKey.length).toBeGreaterThan(1000);
    const issued = await fetch(`${cp.url}/tokens/dataplane`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'web-1', mesh: 'default' }) });
    token = await issued.text();
    expect(issued.status).toBe(200);
  }, 60_000);
  afterAll(async () => cp?.destroy());

  const clear = () => [b64(first), b64(second), first, second, signingKey];
  const expectNoPlaintext = (what: string, text: string) => {
    for (const s of clear()) expect(text.includes(s), `${what} holds secret data in the clear`).toBe(false);
  };

  it('answers the live GET with the data', async () => {
    expect((await http(cp.url, 'GET', '/meshes/default/secrets/db-password')).body.data).toBe(b64(second));
  });

  it('shows digests, never the data nor its ciphertext, in the audit feed and its JSON Lines export', async () => {
    const feed = await http(cp.url, 'GET', '/_events?size=1000');
    expect(feed.status).toBe(200);
    expectNoPlaintext('/_events', JSON.stringify(feed.body));
    const items = feed.body.items.filter((i: { type: string; name: string }) => i.type === 'Secret' && i.name === 'db-password');
    expect(items).toHaveLength(2);
    const [a, b] = items.map((i: { resource: { data: string } }) => i.resource.data);
    expect(a).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(b).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(JSON.stringify(feed.body)).not.toContain('$sealed');
    const signing = feed.body.items.find((i: { type: string }) => i.type === 'GlobalSecret');
    expect(signing.resource.data).toMatch(/^hmac-sha256:/);

    const jsonl = await fetch(`${cp.url}/_events?format=jsonl`);
    const text = await jsonl.text();
    expect(text.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(5);
    expectNoPlaintext('/_events?format=jsonl', text);
    expect(text).not.toContain('$sealed');
  });

  it('shows digests in history, diffs and time travel', async () => {
    const history = await http(cp.url, 'GET', '/meshes/default/secrets/db-password/_history');
    expect(history.body.total).toBe(2);
    expectNoPlaintext('_history', JSON.stringify(history.body));
    expect(history.body.items[1].diff).toEqual([{ op: 'replace', path: '/data', value: history.body.items[1].resource.data }]);
    const signingHistory = await http(cp.url, 'GET', '/global-secrets/dataplane-token-signing-key-1/_history');
    expectNoPlaintext('global-secret _history', JSON.stringify(signingHistory.body));

    const diff = await http(cp.url, 'GET', '/_diff?from=1');
    expect(diff.status).toBe(200);
    expect(diff.body.items.some((i: { type: string }) => i.type === 'Secret')).toBe(true);
    expectNoPlaintext('/_diff', JSON.stringify(diff.body));

    const past = await http(cp.url, 'GET', `/meshes/default/secrets/db-password?at=${secretSeq}`);
    expect(past.status).toBe(200);
    expect(past.body.data).toMatch(/^hmac-sha256:/);
    expect(past.body.data).toBe(history.body.items[0].resource.data);
    for (const path of [`/meshes/default/secrets?at=${secretSeq}`, `/global-secrets?at=${secretSeq}`, `/global-secrets/dataplane-token-signing-key-1?at=${secretSeq}`]) {
      const res = await http(cp.url, 'GET', path);
      expect(res.status, path).toBe(200);
      expectNoPlaintext(path, JSON.stringify(res.body));
    }
  });

  it('restores a secret (re-encrypted) but never the signing key', async () => {
    const res = await http(cp.url, 'POST', '/_restore', { at: secretSeq, mesh: 'default' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.changes.map((c: { type: string; name: string }) => `${c.type}/${c.name}`)).toContain('Secret/db-password');
    expect((await http(cp.url, 'GET', '/meshes/default/secrets/db-password')).body.data).toBe(b64(first));
    expect((await http(cp.url, 'GET', '/global-secrets/dataplane-token-signing-key-1')).body.data).toBe(signingKey);
  });

  it('keeps nothing in the clear on disk (log and checkpoints) and in the logs; tokens verify after a restart', async () => {
    expect(await bootstrap(cp, token)).toBe(200);
    expect(await cp.stop()).toBe(0); // a graceful stop saves a checkpoint too
    expectNoPlaintext('kuma-cp output', cp.output);
    // Parsers quote a few characters of a malformed body: not even those reach the (debug) log.
    expect(cp.output).toContain('request rejected');
    expect(cp.output).not.toContain(b64(first).slice(0, 10));

    for (const f of filesUnder(cp.dataDir)) if (!f.path.endsWith('store-encryption.key')) expectNoPlaintext(f.path, f.bytes.toString('latin1'));
    // LevelDB compresses its tables, so also read every value as stored.
    const log = new ClassicLevel<string, string>(join(cp.dataDir, 'store'), { valueEncoding: 'utf8' });
    const values: string[] = [];
    for await (const v of log.values()) values.push(v);
    await log.close();
    expect(values.some((v) => v.includes('"type":"Secret"') && v.includes('$sealed'))).toBe(true);
    expectNoPlaintext('event log values', values.join('\n'));
    const checkpoints = new ClassicLevel<string, Uint8Array>(join(cp.dataDir, 'store-checkpoints'), { valueEncoding: 'view' });
    let sealed = 0;
    for await (const [k, v] of checkpoints.iterator()) {
      if (!k.startsWith('d!')) continue;
      const json = gunzipSync(v).toString('utf8');
      expectNoPlaintext(`checkpoint ${k}`, json);
      if (json.includes('$sealed')) sealed++;
    }
    await checkpoints.close();
    expect(sealed).toBeGreaterThan(0);

    const keyFile = join(cp.dataDir, 'work', 'store-encryption.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    await cp.restart();
    expect((await http(cp.url, 'GET', '/meshes/default/secrets/db-password')).body.data).toBe(b64(first));
    expect((await http(cp.url, 'GET', '/global-secrets/dataplane-token-signing-key-1')).body.data).toBe(signingKey);
    expect(await bootstrap(cp, token)).toBe(200);
    expect(await bootstrap(cp, `${token.slice(0, -4)}AAAA`)).toBe(401);
  }, 60_000);

  it('refuses to start with another key-encryption key, naming the setting', async () => {
    await cp.stop();
    const keyFile = join(cp.dataDir, 'work', 'store-encryption.key');
    const original = readFileSync(keyFile);
    writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    try {
      await expect(cp.restart()).rejects.toThrow(/KUMA_STORE_ENCRYPTION_KEY_FILE/);
      await cp.stop();
      expect(cp.output).toMatch(/cannot decrypt (Secret|GlobalSecret)/);
    } finally {
      writeFileSync(keyFile, original, { mode: 0o600 });
    }
    await cp.restart();
    expect((await http(cp.url, 'GET', '/meshes/default/secrets/db-password')).body.data).toBe(b64(first));
  }, 60_000);
});

describe('Secrets on the JetStream store', () => {
  let nats: NatsServer;
  let cp: KumaCpProcess;
  const STREAM = `SECRETS_${Date.now()}`;
  const plain = marker();

  beforeAll(async () => {
    nats = await NatsServer.start();
    cp = await KumaCpProcess.start({ env: { KUMA_STORE_TYPE: 'nats', KUMA_STORE_NATS_URL: nats.url, KUMA_STORE_NATS_STREAM: STREAM, KUMA_STORE_CHECKPOINTS_INTERVAL: '2' } });
  }, 60_000);
  afterAll(async () => {
    await cp?.destroy();
    await nats?.stop();
  });

  it('stores only ciphertext in the raw stream message and in checkpoints', async () => {
    expect((await http(cp.url, 'PUT', '/meshes/default/secrets/api-key', secret('api-key', plain))).status).toBe(201);
    expect((await http(cp.url, 'GET', '/meshes/default/secrets/api-key')).body.data).toBe(b64(plain));
    const signingKey = (await http(cp.url, 'GET', '/global-secrets/dataplane-token-signing-key-1')).body.data as string;
    expect(await cp.stop()).toBe(0);

    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const raw = await jsm.streams.getMessage(STREAM, { last_by_subj: 'kuma.events.default.Secret.api-key' });
      const text = new TextDecoder().decode(raw!.data);
      expect(text).toContain('$sealed');
      expect(text).not.toContain(b64(plain));
      const signing = new TextDecoder().decode((await jsm.streams.getMessage(STREAM, { last_by_subj: 'kuma.events._.GlobalSecret.dataplane-token-signing-key-1' }))!.data);
      expect(signing).toContain('$sealed');
      expect(signing).not.toContain(signingKey);

      const bucket = await new Objm(nc).open(`${STREAM}_CHECKPOINTS`);
      const objects = await bucket.list();
      expect(objects.length).toBeGreaterThan(0);
      for (const o of objects) {
        const json = gunzipSync((await bucket.getBlob(o.name))!).toString('utf8');
        expect(json).not.toContain(b64(plain));
        expect(json).not.toContain(signingKey);
      }
    } finally {
      await nc.close();
    }
  }, 60_000);

  it('stops a replica that meets a secret it cannot decrypt, exit code 1, naming the setting', async () => {
    const other = join(cp.dataDir, 'other.key');
    writeFileSync(other, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const empty = await NatsServer.start(); // a second log on a server of its own (streams may not share subjects)
    const env = { KUMA_STORE_TYPE: 'nats', KUMA_STORE_NATS_URL: empty.url };
    // A gateway writes nothing itself: it starts on the empty stream with the wrong key...
    const gateway = await KumaCpProcess.start({ args: ['--roles', 'gateway'], plaintext: true, env: { ...env, KUMA_STORE_ENCRYPTION_KEY_FILE: other } });
    // ...until an API server (with the shared key) creates the token signing key.
    const api = await KumaCpProcess.start({ args: ['--roles', 'api,projector'], env });
    try {
      await eventually(async () => expect(gateway.exited).toBe(true), 20_000);
      expect(await gateway.stop()).toBe(1);
      expect(gateway.output).toMatch(/cannot decrypt GlobalSecret \\"dataplane-token-signing-key-1\\".*KUMA_STORE_ENCRYPTION_KEY_FILE/);
    } finally {
      await gateway.destroy();
      await api.destroy();
      await empty.stop();
    }
  }, 60_000);

  it('needs the key file to be set on the nats store, and reads back with the shared one', async () => {
    const without = await KumaCpProcess.start({ env: { KUMA_STORE_TYPE: 'nats', KUMA_STORE_NATS_URL: nats.url, KUMA_STORE_NATS_STREAM: STREAM, KUMA_STORE_ENCRYPTION_KEY_FILE: '' } }).catch((err: Error) => err);
    expect(without).toBeInstanceOf(Error);
    expect((without as Error).message).toMatch(/KUMA_STORE_ENCRYPTION_KEY_FILE must be set for store.type nats/);
    await cp.restart();
    expect(sharedStoreKeyFile()).toBeTruthy();
    expect((await http(cp.url, 'GET', '/meshes/default/secrets/api-key')).body.data).toBe(b64(plain));
  }, 60_000);
});
