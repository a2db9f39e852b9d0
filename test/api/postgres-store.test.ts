import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../libs/testkit/eventually.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { PostgresServer } from '../../libs/testkit/postgres-server.ts';

let pgServer: PostgresServer;
let a: KumaCpProcess | undefined;
let b: KumaCpProcess | undefined;

const env = (db: string, extra: Record<string, string> = {}) => ({
  KUMA_STORE_TYPE: 'postgres',
  KUMA_STORE_POSTGRES_HOST: '127.0.0.1',
  KUMA_STORE_POSTGRES_PORT: String(pgServer.port),
  KUMA_STORE_POSTGRES_USER: 'postgres',
  KUMA_STORE_POSTGRES_PASSWORD: '',
  KUMA_STORE_POSTGRES_DB_NAME: db,
  KUMA_STORE_POSTGRES_CONNECTION_TIMEOUT: '2',
  ...extra,
});

const dataplane = (name: string) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'svc' } }] },
});

async function names(cp: KumaCpProcess): Promise<string[]> {
  const res = await http(cp.url, 'GET', '/meshes/default/dataplanes?size=1000');
  return res.body.items.map((i: { name: string }) => i.name).sort();
}

/** `kuma-cp run` with these settings fails to start: its output. */
async function failsToStart(settings: Record<string, string>): Promise<string> {
  return KumaCpProcess.start({ env: settings }).then(
    async (cp) => {
      await cp.destroy();
      throw new Error('kuma-cp started');
    },
    (e: Error) => e.message,
  );
}

const migrateUp = (db: string) => KumaCpProcess.command(['migrate', 'up'], env(db));

beforeAll(async () => {
  pgServer = await PostgresServer.start();
  pgServer.createDatabase('kuma');
}, 60_000);
afterAll(async () => {
  await a?.destroy();
  await b?.destroy();
  await pgServer?.stop();
});

describe('kuma-cp on the PostgreSQL store', () => {
  it('refuses to start on a database without its schema, and starts once `kuma-cp migrate up` applied it', async () => {
    expect(await failsToStart(env('kuma'))).toMatch(/no kuma-cp schema: run "kuma-cp migrate up"/);
    const first = await migrateUp('kuma');
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/applied 1 migration\(s\) to kuma at 127\.0\.0\.1:\d+/);
    expect((await migrateUp('kuma')).stdout).toMatch(/is at schema version \d+ already/);
    a = await KumaCpProcess.start({ env: env('kuma') });
    b = await KumaCpProcess.start({ env: env('kuma') });
  }, 60_000);

  it('shares one log between replicas: a write to one is read from the other, and both rebuild it after a restart', async () => {
    expect((await http(a!.url, 'PUT', '/meshes/default/dataplanes/from-a', dataplane('from-a'))).status).toBe(201);
    await eventually(async () => expect(await names(b!)).toContain('from-a'));
    expect((await http(b!.url, 'PUT', '/meshes/default/dataplanes/from-b', dataplane('from-b'))).status).toBe(201);
    await eventually(async () => expect(await names(a!)).toEqual(['from-a', 'from-b']));
    // The default Mesh was created once, by whichever replica won.
    expect((await http(b!.url, 'GET', '/meshes')).body.total).toBe(1);
    await b!.stop();
    await b!.restart();
    expect(await names(b!)).toEqual(['from-a', 'from-b']);
  }, 60_000);

  it('keeps every acknowledged write across a PostgreSQL restart, answers 503 meanwhile, and recovers by itself', async () => {
    const acked: string[] = [];
    const answers: number[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const started = Date.now();
        const res = await http(a!.url, 'PUT', `/meshes/default/dataplanes/burst-${i}`, dataplane(`burst-${i}`));
        answers.push(res.status);
        if (res.status === 201) acked.push(`burst-${i}`);
        else {
          expect(res.status, JSON.stringify(res.body)).toBe(503);
          // A clear answer, not a hang.
          expect(Date.now() - started).toBeLessThan(15_000);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
    await eventually(async () => expect(acked.length).toBeGreaterThan(10));
    await pgServer.kill();
    await eventually(async () => expect(answers.filter((s) => s === 503).length).toBeGreaterThan(2), 20_000);
    await pgServer.restart();
    const before = acked.length;
    await eventually(async () => expect(acked.length).toBeGreaterThan(before + 5), 30_000);
    writing = false;
    await writer;
    for (const cp of [a!, b!]) await eventually(async () => expect(await names(cp)).toEqual(expect.arrayContaining(acked)), 20_000);
  }, 90_000);

  it('names the setting when the database cannot be used', async () => {
    expect(await failsToStart(env('kuma', { KUMA_STORE_POSTGRES_USER: 'nobody' }))).toMatch(/store\.postgres\.user \/ store\.postgres\.password .*refused user "nobody"/);
    expect(await failsToStart(env('missing'))).toMatch(/store\.postgres\.dbName \(KUMA_STORE_POSTGRES_DB_NAME\): database "missing" does not exist/);
    expect(await failsToStart(env('kuma', { KUMA_STORE_POSTGRES_TLS_MODE: 'verifyNone' }))).toMatch(/store\.postgres\.tls\.mode \(KUMA_STORE_POSTGRES_TLS_MODE\) is "verifyNone" but the server .* does not offer TLS/);
    expect(await failsToStart(env('kuma', { KUMA_STORE_POSTGRES_PORT: String(await freePort()) }))).toMatch(/store\.postgres\.host \/ store\.postgres\.port .*cannot reach PostgreSQL/);
    // A schema from a newer kuma-cp: refused unless tolerated.
    pgServer.createDatabase('newer');
    expect((await migrateUp('newer')).code).toBe(0);
    const db = new pg.Client({ connectionString: pgServer.url('newer') });
    await db.connect();
    await db.query('UPDATE schema_migrations SET version = version + 1');
    await db.end();
    expect(await failsToStart(env('newer'))).toMatch(/newer than this kuma-cp's .*KUMA_STORE_POSTGRES_TOLERATE_NEWER_DB_VERSIONS=true/);
    const tolerant = await KumaCpProcess.start({ env: env('newer', { KUMA_STORE_POSTGRES_TOLERATE_NEWER_DB_VERSIONS: 'true' }) });
    await tolerant.destroy();
  }, 90_000);
});
