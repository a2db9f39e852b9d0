import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../libs/testkit/eventually.ts';
import { dataplaneNames, plainDataplane } from '../../libs/testkit/dataplanes.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess, sharedStoreKeyFile } from '../../libs/testkit/kuma-cp.ts';
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

const dataplane = plainDataplane;

const names = (cp: KumaCpProcess) => dataplaneNames(cp.url);

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

  it('takes 50 concurrent writers of one resource spread over both replicas: one creation, each acknowledged write one version, the rest 409', async () => {
    const history = async () => (await http(a!.url, 'GET', '/meshes/default/dataplanes/contended/_history')).body.items as { version: number }[];
    for (const round of [0, 1]) {
      const before = round === 0 ? 0 : (await history()).length;
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => http((i % 2 ? a : b)!.url, 'PUT', '/meshes/default/dataplanes/contended', { ...dataplane('contended'), networking: { ...dataplane('contended').networking, address: `10.9.${round}.${i}` } })),
      );
      const won = answers.filter((r) => r.status === 200 || r.status === 201);
      for (const r of answers) expect([200, 201, 409], JSON.stringify(r.body)).toContain(r.status);
      // One creation; then each version once, won by a writer whose replica had seen the one before.
      if (round === 0) expect(answers.filter((r) => r.status === 201)).toHaveLength(1);
      expect(won.length).toBeGreaterThanOrEqual(1);
      await eventually(async () => expect((await history()).length).toBe(before + won.length));
      const versions = (await history()).map((h) => h.version);
      expect([...versions].sort((x, y) => x - y)).toEqual(versions);
      expect(new Set(versions).size).toBe(versions.length);
    }
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

  it('hands the singletons to another replica within seconds when the one holding the lease is killed', async () => {
    const lease = async (cp: KumaCpProcess) => {
      const text = await (await fetch(`http://127.0.0.1:${cp.diagnosticsPort}/metrics`)).text();
      return Number(/^kuma_cp_singleton_lease (\d)/m.exec(text)?.[1] ?? NaN);
    };
    await eventually(async () => expect((await lease(a!)) + (await lease(b!))).toBe(1));
    const [holder, other] = (await lease(a!)) === 1 ? [a!, b!] : [b!, a!];
    await holder.stop('SIGKILL');
    const killed = Date.now();
    await eventually(async () => expect(await lease(other)).toBe(1), 10_000);
    expect(Date.now() - killed).toBeLessThan(10_000);
    await holder.restart();
    // Back, it waits: the lease stays where it is.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await lease(holder)).toBe(0);
    expect(await lease(other)).toBe(1);
  }, 60_000);

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

  it('imports a Kuma database: every resource it serves, Meshes first, as actor source import, readable through the REST API', async () => {
    pgServer.createDatabase('kumadb');
    const kuma = new pg.Client({ connectionString: pgServer.url('kumadb') });
    kuma.on('error', () => undefined);
    await kuma.connect();
    // Kuma 2.x's resources table (pkg/plugins/resources/postgres/migrations, as of 1710856785).
    await kuma.query(`CREATE TABLE resources (
      name varchar(253) NOT NULL, mesh varchar(100) NOT NULL, type varchar(100) NOT NULL, version integer NOT NULL, spec text,
      creation_time timestamp NOT NULL DEFAULT now(), modification_time timestamp NOT NULL DEFAULT now(),
      owner_name varchar(100), owner_mesh varchar(100), owner_type varchar(100), labels jsonb DEFAULT '{}'::jsonb, status jsonb NOT NULL DEFAULT '{}'::jsonb,
      PRIMARY KEY (name, mesh, type))`);
    const row = (type: string, mesh: string, name: string, spec: unknown, labels: Record<string, string> = {}) =>
      kuma.query('INSERT INTO resources (name, mesh, type, version, spec, labels, creation_time) VALUES ($1, $2, $3, 3, $4, $5, $6)', [name, mesh, type, JSON.stringify(spec), JSON.stringify(labels), '2025-06-01 10:00:00']);
    // Mesh-scoped rows first in the table: the import still writes the Meshes before them.
    await row('Dataplane', 'payments', 'web-1', { networking: { address: '10.1.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web', 'kuma.io/protocol': 'http' } }] } }, { team: 'pay' });
    await row('MeshTimeout', 'payments', 'web-timeouts', { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { http: { requestTimeout: '7s' } } }] });
    // Kuma stores a Secret's google.protobuf.BytesValue as its proto JSON: the base64 string.
    await row('Secret', 'payments', 'db-password', { data: Buffer.from('hunter2').toString('base64') });
    await row('Mesh', '', 'payments', {});
    await row('DataplaneInsight', 'payments', 'web-1', { subscriptions: [] });
    await row('ZoneIngressInsight', '', 'zi-1', {});
    pgServer.createDatabase('imported');
    expect((await migrateUp('imported')).code).toBe(0);
    const imported = await KumaCpProcess.command(['migrate', 'import-kuma', '--from', pgServer.url('kumadb')], env('imported', { KUMA_STORE_ENCRYPTION_KEY_FILE: sharedStoreKeyFile() }));
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toMatch(/imported 4 resource\(s\); the log is at 4/);
    expect(imported.stdout).toMatch(/skipped DataplaneInsight: 1 \(computed by the control plane\)/);
    // Once more: the log is not empty any more.
    const again = await KumaCpProcess.command(['migrate', 'import-kuma', '--from', pgServer.url('kumadb')], env('imported', { KUMA_STORE_ENCRYPTION_KEY_FILE: sharedStoreKeyFile() }));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds 4 event\(s\).*--allow-non-empty/);
    // Told to, it appends only what changed in Kuma's database since: here one label.
    await kuma.query("UPDATE resources SET labels = '{\"team\":\"payments\"}' WHERE type = 'Dataplane' AND name = 'web-1'");
    const rerun = await KumaCpProcess.command(['migrate', 'import-kuma', '--allow-non-empty', '--from', pgServer.url('kumadb')], env('imported', { KUMA_STORE_ENCRYPTION_KEY_FILE: sharedStoreKeyFile() }));
    expect(rerun.stderr).toBe('');
    expect(rerun.stdout).toMatch(/imported 1 resource\(s\); the log is at 5\n  Dataplane: 1\n/);
    expect(rerun.stdout).toMatch(/unchanged Secret: 1 \(already in the log as it is\)/);
    // A row Kuma would not have accepted stops the import before anything is written.
    await row('MeshTimeout', 'payments', 'broken', { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { http: { requestTimeout: 'soon' } } }] });
    pgServer.createDatabase('refused');
    await migrateUp('refused');
    const bad = await KumaCpProcess.command(['migrate', 'import-kuma', '--from', pgServer.url('kumadb')], env('refused', { KUMA_STORE_ENCRYPTION_KEY_FILE: sharedStoreKeyFile() }));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/1 resource\(s\) do not validate; nothing was imported:\n  MeshTimeout payments\/broken: spec\.to\[0\]\.default\.http\.requestTimeout/);
    const refused = new pg.Client({ connectionString: pgServer.url('refused') });
    await refused.connect();
    expect((await refused.query('SELECT count(*)::int AS n FROM kuma_events')).rows[0].n).toBe(0);
    await refused.end();
    await kuma.end();

    const cp = await KumaCpProcess.start({ env: env('imported', { KUMA_DEFAULTS_SKIP_MESH_CREATION: 'true' }) });
    try {
      expect((await http(cp.url, 'GET', '/meshes')).body.items.map((m: { name: string }) => m.name)).toEqual(['payments']);
      const dp = (await http(cp.url, 'GET', '/meshes/payments/dataplanes/web-1')).body;
      expect(dp).toMatchObject({ type: 'Dataplane', mesh: 'payments', name: 'web-1', labels: { team: 'payments' }, networking: { address: '10.1.0.1' } });
      expect(dp.creationTime).toMatch(/^2025-06-01T/);
      expect((await http(cp.url, 'GET', '/meshes/payments/meshtimeouts/web-timeouts')).body.spec.to[0].default.http.requestTimeout).toBe('7s');
      expect((await http(cp.url, 'GET', '/meshes/payments/secrets/db-password')).body.data).toBe(Buffer.from('hunter2').toString('base64'));
      const history = (await http(cp.url, 'GET', '/meshes/payments/dataplanes/web-1/_history')).body.items;
      expect(history.map((h: { actor: { source: string } }) => h.actor.source)).toEqual(['import', 'import']);
      // The secret is sealed in the log like any other write: its plaintext is not in the table.
      const target = new pg.Client({ connectionString: pgServer.url('imported') });
      await target.connect();
      const stored = await target.query("SELECT payload FROM kuma_events WHERE type = 'Secret'");
      await target.end();
      expect(stored.rows[0].payload).not.toContain(Buffer.from('hunter2').toString('base64'));

      // Edited here since the import, then changed in Kuma too: a catch-up import keeps this
      // control plane's version, and still takes what changed in Kuma alone.
      const edited = { type: 'MeshTimeout', mesh: 'payments', name: 'web-timeouts', spec: { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { http: { requestTimeout: '9s' } } }] } };
      expect((await http(cp.url, 'PUT', '/meshes/payments/meshtimeouts/web-timeouts', edited)).status).toBe(200);
      const source = new pg.Client({ connectionString: pgServer.url('kumadb') });
      await source.connect();
      await source.query("DELETE FROM resources WHERE name = 'broken'");
      await source.query(`UPDATE resources SET spec = $1 WHERE type = 'MeshTimeout' AND name = 'web-timeouts'`, [JSON.stringify({ targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { http: { requestTimeout: '8s' } } }] })]);
      await source.query("UPDATE resources SET labels = '{\"team\":\"pay-2\"}' WHERE type = 'Dataplane' AND name = 'web-1'");
      await source.end();
      const catchUp = await KumaCpProcess.command(['migrate', 'import-kuma', '--allow-non-empty', '--from', pgServer.url('kumadb')], env('imported', { KUMA_STORE_ENCRYPTION_KEY_FILE: sharedStoreKeyFile() }));
      expect(catchUp.stderr).toBe('');
      expect(catchUp.stdout).toMatch(/imported 1 resource\(s\)[^\n]*\n  Dataplane: 1\n/);
      expect(catchUp.stdout).toMatch(/kept MeshTimeout: 1 \(changed in this control plane since it was imported/);
      await eventually(async () => expect((await http(cp.url, 'GET', '/meshes/payments/dataplanes/web-1')).body.labels.team).toBe('pay-2'));
      expect((await http(cp.url, 'GET', '/meshes/payments/meshtimeouts/web-timeouts')).body.spec.to[0].default.http.requestTimeout).toBe('9s');
    } finally {
      await cp.destroy();
    }
  }, 90_000);
});
