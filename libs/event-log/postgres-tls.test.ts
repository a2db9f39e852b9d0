import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, type KumaCpConfig } from '../platform/config.ts';
import { PostgresServer } from '../testkit/postgres-server.ts';
import { serverCertificate } from '../testkit/tls-certs.ts';
import { explainConnectError, postgresAddresses, postgresPoolConfig } from './postgres-connection.ts';

/** Kuma's store.postgres.tls modes against a real PostgreSQL that offers TLS with a certificate for `localhost` only. */
let server: PostgresServer;
let dir: string;
beforeAll(async () => {
  const certs = await serverCertificate({ dns: ['localhost'] });
  const other = await serverCertificate({ dns: ['localhost'] });
  server = await PostgresServer.start({ tls: certs });
  dir = mkdtempSync(join(tmpdir(), 'kuma-pg-tls-'));
  writeFileSync(join(dir, 'ca.pem'), certs.caPem);
  writeFileSync(join(dir, 'other-ca.pem'), other.caPem);
}, 60_000);
afterAll(async () => server?.stop());

type Pg = KumaCpConfig['store']['postgres'];
const settings = (host: string, tls: Partial<Pg['tls']>): Pg => {
  const d = defaultConfig().store.postgres;
  return { ...d, host, port: server.port, user: 'postgres', password: '', dbName: 'postgres', tls: { ...d.tls, ...tls } };
};

/** Connects with the settings as kuma-cp does, and says whether the connection is encrypted (or the explained error). */
async function connect(c: Pg): Promise<string> {
  const pool = new pg.Pool({ ...postgresPoolConfig(c, 'tls-test', await postgresAddresses(c)), max: 1 });
  pool.on('error', () => undefined);
  try {
    const r = await pool.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return r.rows[0]?.ssl ? 'encrypted' : 'plaintext';
  } catch (err) {
    const e = explainConnectError(err, c);
    return e instanceof ConfigError ? `ConfigError: ${e.message}` : `error: ${(e as Error).message}`;
  } finally {
    await pool.end();
  }
}

describe('store.postgres.tls against a server offering TLS', () => {
  it('encrypts in every mode but disable, and verifies as each mode says', async () => {
    const ca = join(dir, 'ca.pem');
    expect(await connect(settings('localhost', { mode: 'disable' }))).toBe('plaintext');
    expect(await connect(settings('127.0.0.1', { mode: 'verifyNone' }))).toBe('encrypted');
    // verifyCa: the chain must lead to the CA, whatever the name dialled.
    expect(await connect(settings('127.0.0.1', { mode: 'verifyCa', caPath: ca }))).toBe('encrypted');
    expect(await connect(settings('localhost', { mode: 'verifyCa', caPath: join(dir, 'other-ca.pem') }))).toMatch(
      /^ConfigError: store\.postgres\.tls \(KUMA_STORE_POSTGRES_TLS_MODE, KUMA_STORE_POSTGRES_TLS_CA_PATH\): the certificate of the server at localhost:\d+ is not trusted/,
    );
    // verifyFull: the CA and the name.
    expect(await connect(settings('localhost', { mode: 'verifyFull', caPath: ca }))).toBe('encrypted');
    expect(await connect(settings('127.0.0.1', { mode: 'verifyFull', caPath: ca }))).toMatch(/^ConfigError: store\.postgres\.tls .*not trusted: .*(IP: 127\.0\.0\.1 is not in the cert's list|does not match)/);
  }, 30_000);

  it('with disableSSLSNI dials the address without SNI and still checks the certificate against the name', async () => {
    const ca = join(dir, 'ca.pem');
    const c = settings('localhost', { mode: 'verifyFull', caPath: ca, disableSSLSNI: true });
    const dial = await postgresAddresses(c);
    // node-postgres sends SNI only when it dials a name: it dials an address here.
    expect(dial.host).toMatch(/^(127\.0\.0\.1|::1)$/);
    expect(postgresPoolConfig(c, 'x', dial).host).toBe(dial.host);
    if (dial.host === '127.0.0.1') expect(await connect(c)).toBe('encrypted');
    expect(await connect(settings('localhost', { mode: 'verifyFull', caPath: join(dir, 'other-ca.pem'), disableSSLSNI: true }))).toMatch(/^ConfigError: .*not trusted/);
    await expect(postgresAddresses(settings('no-such-host.invalid', { mode: 'verifyFull', disableSSLSNI: true }))).rejects.toThrow(
      /store\.postgres\.host \(KUMA_STORE_POSTGRES_HOST\): cannot resolve no-such-host\.invalid/,
    );
  }, 30_000);
});
