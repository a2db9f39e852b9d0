import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import type { KumaCpConfig } from '../platform/config.ts';
import { ConfigError } from '../platform/config.ts';
import { parseDuration } from '../platform/duration.ts';

type PostgresConfig = KumaCpConfig['store']['postgres'];

const ENV = (setting: string) => `KUMA_STORE_POSTGRES_${setting}`;

/**
 * TLS as Kuma's store.postgres.tls.mode: disable, verifyNone (encrypt, trust anything), verifyCa,
 * verifyFull (CA and host name). `connectTo` is the address dialled instead of `host` (see
 * `postgresAddresses`): the certificate is still checked against `host`.
 */
function tlsOf(c: PostgresConfig, host: string, connectTo: string): pg.PoolConfig['ssl'] {
  const t = c.tls;
  if (t.mode === 'disable') return false;
  const read = (path: string, setting: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`store.postgres.tls.${setting} (${ENV(`TLS_${setting.replace(/Path$/, '').toUpperCase()}_PATH`)}): cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const opts: ConnectionOptions = {
    ...(t.certPath ? { cert: read(t.certPath, 'certPath'), key: read(t.keyPath, 'keyPath') } : {}),
    ...(t.caPath ? { ca: read(t.caPath, 'caPath') } : {}),
  };
  switch (t.mode) {
    case 'verifyNone':
      return { ...opts, rejectUnauthorized: false };
    case 'verifyCa':
      // The chain must lead to the CA; the host name is not checked.
      return { ...opts, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    default:
      return { ...opts, rejectUnauthorized: true, ...(connectTo !== host ? { checkServerIdentity: (_servername: string, cert: Parameters<typeof checkServerIdentity>[1]) => checkServerIdentity(host, cert) } : {}) };
  }
}

/**
 * The addresses to dial. node-postgres sends the host name as TLS SNI whenever it dials a name;
 * with `tls.disableSSLSNI` (Kuma's `sslsni=0`, for servers and proxies that refuse SNI) the name is
 * resolved here, at start-up, and its address dialled, so no SNI is sent, while verifyFull still
 * checks the certificate against the name.
 */
export async function postgresAddresses(c: PostgresConfig): Promise<PostgresAddresses> {
  const resolve = async (host: string, setting: string) => {
    if (!c.tls.disableSSLSNI || c.tls.mode === 'disable' || isIP(host) !== 0) return host;
    try {
      return (await lookup(host)).address;
    } catch (err) {
      throw new ConfigError(`${setting} (${ENV(setting === 'store.postgres.host' ? 'HOST' : 'READ_REPLICA_HOST')}): cannot resolve ${host} (tls.disableSSLSNI dials its address): ${(err as Error).message}`);
    }
  };
  return { host: await resolve(c.host, 'store.postgres.host'), replicaHost: c.readReplica.host ? await resolve(c.readReplica.host, 'store.postgres.readReplica.host') : '' };
}

/** Where `postgresPoolConfig` dials: the configured hosts, or their addresses (see `postgresAddresses`). */
export interface PostgresAddresses {
  readonly host: string;
  readonly replicaHost: string;
}

/** The primary's pool settings from Kuma's store.postgres settings. */
export function postgresPoolConfig(c: PostgresConfig, applicationName: string, dial: PostgresAddresses = { host: c.host, replicaHost: c.readReplica.host }): pg.PoolConfig {
  return {
    host: dial.host,
    port: c.port,
    user: c.user,
    password: c.password,
    database: c.dbName,
    connectionTimeoutMillis: c.connectionTimeout * 1000,
    max: c.maxOpenConnections,
    min: c.minOpenConnections,
    idleTimeoutMillis: parseDuration(c.maxConnectionIdleTime) * 1000,
    maxLifetimeSeconds: parseDuration(c.maxConnectionLifetime),
    ssl: tlsOf(c, c.host, dial.host),
    application_name: applicationName,
  };
}

/** The read replica's pool settings (the primary's, another host), or undefined when none is set. */
export function replicaPoolConfig(c: PostgresConfig, applicationName: string, dial: PostgresAddresses = { host: c.host, replicaHost: c.readReplica.host }): { pool: pg.PoolConfig; ratio: number } | undefined {
  if (!c.readReplica.host) return undefined;
  const host = c.readReplica.host;
  return { pool: { ...postgresPoolConfig(c, applicationName, dial), host: dial.replicaHost, port: c.readReplica.port, ssl: tlsOf(c, host, dial.replicaHost) }, ratio: c.readReplica.ratio };
}

/**
 * A failure to reach or log in to the database at start-up, as a ConfigError naming the
 * setting to look at; other errors unchanged.
 */
export function explainConnectError(err: unknown, c: PostgresConfig): unknown {
  const e = err as { code?: string; message?: string };
  const at = `${c.host}:${c.port}`;
  const message = e.message ?? String(err);
  switch (e.code) {
    case '28P01':
    case '28000':
      if (/SSL off|no encryption/i.test(message))
        return new ConfigError(`store.postgres.tls.mode (${ENV('TLS_MODE')}): the server at ${at} requires TLS and the mode is "${c.tls.mode}": ${message}`);
      return new ConfigError(`store.postgres.user / store.postgres.password (${ENV('USER')}, ${ENV('PASSWORD')}): the server at ${at} refused user "${c.user}": ${message}`);
    case '3D000':
      return new ConfigError(`store.postgres.dbName (${ENV('DB_NAME')}): database "${c.dbName}" does not exist on ${at}`);
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
      return new ConfigError(`store.postgres.host / store.postgres.port (${ENV('HOST')}, ${ENV('PORT')}): cannot reach PostgreSQL at ${at}: ${message}`);
  }
  if (/does not support SSL/i.test(message)) return new ConfigError(`store.postgres.tls.mode (${ENV('TLS_MODE')}) is "${c.tls.mode}" but the server at ${at} does not offer TLS`);
  if (/self[- ]signed|certificate|Hostname\/IP does not match/i.test(message)) return new ConfigError(`store.postgres.tls (${ENV('TLS_MODE')}, ${ENV('TLS_CA_PATH')}): the certificate of the server at ${at} is not trusted: ${message}`);
  if (/timeout/i.test(message)) return new ConfigError(`store.postgres.host / store.postgres.connectionTimeout (${ENV('HOST')}, ${ENV('CONNECTION_TIMEOUT')}): no connection to ${at} within ${c.connectionTimeout}s`);
  return err;
}
