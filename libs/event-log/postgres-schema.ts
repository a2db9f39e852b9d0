import type { Pool, PoolClient } from 'pg';

/**
 * The schema of the PostgreSQL store, as numbered migrations in golang-migrate's shape (Kuma
 * applies its own with golang-migrate): `schema_migrations(version, dirty)` holds the version of
 * the last one applied. Versions are the Unix time of the day a migration was written.
 *
 * - `kuma_events`: the log. `seq` is assigned by the writer under a transaction-level advisory
 *   lock (see PostgresEventLog), so it is gap-free and commits happen in `seq` order. `prev` is
 *   the resource's version the event follows (0 for its first): the unique index on
 *   (type, mesh, name, prev) makes a second successor of one version impossible in the database
 *   itself, whatever a writer does. `id` is unique: a retried append stores one event.
 * - `kuma_heads`: each resource's latest sequence, read for the optimistic-concurrency check.
 * - `kuma_checkpoints`: projection checkpoints (gzip'ed state, see libs/projection/checkpoint.ts).
 */
export const MIGRATIONS: readonly { readonly version: number; readonly name: string; readonly up: string }[] = [
  {
    version: 1796342400,
    name: 'event log, heads and checkpoints',
    up: `
      CREATE TABLE kuma_events (
        seq     bigint PRIMARY KEY,
        id      text NOT NULL,
        type    text NOT NULL,
        mesh    text NOT NULL,
        name    text NOT NULL,
        op      text NOT NULL CHECK (op IN ('upsert', 'delete')),
        prev    bigint NOT NULL,
        time    timestamptz NOT NULL,
        payload text NOT NULL
      );
      CREATE UNIQUE INDEX kuma_events_id ON kuma_events (id);
      CREATE UNIQUE INDEX kuma_events_successor ON kuma_events (type, mesh, name, prev);
      CREATE INDEX kuma_events_mesh ON kuma_events (mesh, seq);
      CREATE INDEX kuma_events_type ON kuma_events (type, seq);
      CREATE INDEX kuma_events_name ON kuma_events (name, seq);
      CREATE TABLE kuma_heads (
        type text NOT NULL,
        mesh text NOT NULL,
        name text NOT NULL,
        seq  bigint NOT NULL,
        PRIMARY KEY (type, mesh, name)
      );
      CREATE TABLE kuma_checkpoints (
        seq  bigint PRIMARY KEY,
        meta jsonb NOT NULL,
        data bytea NOT NULL
      );
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The database's schema does not fit this control plane (behind, ahead, half-migrated, or not ours). */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}

/** The version of the last migration applied (0: none), whether one failed half-way, and whether Kuma's own tables are there. */
export async function schemaState(db: Pool | PoolClient): Promise<{ version: number; dirty: boolean; kumaResources: boolean }> {
  const tables = await db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('schema_migrations', 'resources', 'kuma_events')`);
  const names = new Set(tables.rows.map((r) => r.name));
  // Kuma's golang-migrate writes schema_migrations too: its `resources` table without our log is Kuma's database.
  const kumaResources = names.has('resources') && !names.has('kuma_events');
  if (!names.has('schema_migrations') || kumaResources) return { version: 0, dirty: false, kumaResources };
  const r = await db.query<{ version: string; dirty: boolean }>('SELECT version, dirty FROM schema_migrations LIMIT 1');
  return { version: Number(r.rows[0]?.version ?? 0), dirty: r.rows[0]?.dirty ?? false, kumaResources };
}

/**
 * Applies the migrations the database lacks (`kuma-cp migrate up`), each in its own transaction
 * under an advisory lock, so two replicas migrating at once apply each migration once.
 * Returns the versions applied.
 */
export async function migrateUp(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  client.on('error', () => undefined); // the query in flight fails with it
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const state = await schemaState(client);
    if (state.kumaResources) throw new SchemaError(KUMA_DATABASE);
    if (state.dirty) throw new SchemaError(`schema version ${state.version} is dirty: a migration failed half-way; repair the database by hand, then set schema_migrations.dirty to false`);
    if (state.version > LATEST_VERSION) throw new SchemaError(`the database is at schema version ${state.version}, newer than this kuma-cp knows (${LATEST_VERSION}): use a newer kuma-cp`);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)');
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (m.version <= state.version) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.up);
        await client.query('DELETE FROM schema_migrations');
        await client.query('INSERT INTO schema_migrations (version, dirty) VALUES ($1, false)', [m.version]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new SchemaError(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

/**
 * Refuses a database `kuma-cp run` cannot use: behind (run `kuma-cp migrate up`), ahead (unless
 * `tolerateNewer`), half-migrated, or Kuma's own.
 */
export async function checkSchema(pool: Pool, opts: { readonly tolerateNewer: boolean }): Promise<void> {
  const s = await schemaState(pool);
  if (s.kumaResources) throw new SchemaError(KUMA_DATABASE);
  if (s.dirty) throw new SchemaError(`schema version ${s.version} is dirty: a migration failed half-way; repair it, then run "kuma-cp migrate up"`);
  if (s.version < LATEST_VERSION) {
    throw new SchemaError(
      s.version === 0
        ? `the database has no kuma-cp schema: run "kuma-cp migrate up" first (KUMA_STORE_POSTGRES_* select the database)`
        : `the database is at schema version ${s.version}, behind this kuma-cp's ${LATEST_VERSION}: run "kuma-cp migrate up"`,
    );
  }
  if (s.version > LATEST_VERSION && !opts.tolerateNewer) {
    throw new SchemaError(
      `the database is at schema version ${s.version}, newer than this kuma-cp's ${LATEST_VERSION}: upgrade kuma-cp, or set KUMA_STORE_POSTGRES_TOLERATE_NEWER_DB_VERSIONS=true to run against it anyway`,
    );
  }
}

const KUMA_DATABASE = `this is a Kuma database (it has Kuma's "resources" table and no event log): point KUMA_STORE_POSTGRES_* at an empty database and bring the resources across with "kuma-cp migrate import-kuma --from <url>"`;
/** pg_advisory_lock key of `migrate up` ('kuma' 'migr'). */
const MIGRATION_LOCK = 0x6b756d61_6d696772n.toString();
