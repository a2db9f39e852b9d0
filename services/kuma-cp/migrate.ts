import pg from 'pg';
import { explainConnectError, postgresAddresses, postgresPoolConfig } from '../../libs/event-log/postgres-connection.ts';
import { LATEST_VERSION, migrateUp } from '../../libs/event-log/postgres-schema.ts';
import { ConfigError, type KumaCpConfig } from '../../libs/platform/config.ts';

/** `kuma-cp migrate up`: brings the PostgreSQL store's schema to this kuma-cp's. Returns what to print. */
export async function migrateUpCommand(config: KumaCpConfig): Promise<string> {
  if (config.store.type !== 'postgres') throw new ConfigError(`store.type (KUMA_STORE_TYPE): migrations apply to the postgres store, not "${config.store.type}"`);
  const c = config.store.postgres;
  const pool = new pg.Pool({ ...postgresPoolConfig(c, 'kuma-cp migrate', await postgresAddresses(c)), max: 1, min: 0 });
  pool.on('error', () => undefined);
  try {
    const applied = await migrateUp(pool).catch((err: unknown) => {
      throw explainConnectError(err, c);
    });
    return applied.length === 0
      ? `the database ${c.dbName} at ${c.host}:${c.port} is at schema version ${LATEST_VERSION} already\n`
      : `applied ${applied.length} migration(s) to ${c.dbName} at ${c.host}:${c.port}: ${applied.join(', ')}; schema version ${LATEST_VERSION}\n`;
  } finally {
    await pool.end().catch(() => undefined);
  }
}
