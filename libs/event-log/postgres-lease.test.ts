import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresServer } from '../testkit/postgres-server.ts';
import { until } from './contract.ts';
import { PostgresLease } from './postgres-lease.ts';

/** The singleton lease on a real PostgreSQL: one holder, handed over when its connection dies, and no retry loop doubled by a failure seen twice. */
let server: PostgresServer;
beforeAll(async () => {
  server = await PostgresServer.start();
}, 60_000);
afterAll(async () => server?.stop());

const KEY = 0x6b756d61_74657374n;
const config = (): pg.ClientConfig => ({ connectionString: server.url(), application_name: 'lease-test', connectionTimeoutMillis: 2000 });

function lease(name: string, log: string[]) {
  const l = new PostgresLease(config(), KEY, { onAcquired: () => log.push(`${name}+`), onLost: () => log.push(`${name}-`) }, 100);
  return l;
}

async function connections(): Promise<number> {
  const c = new pg.Client({ connectionString: server.url() });
  await c.connect();
  try {
    return (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'lease-test'")).rows[0]!.n;
  } finally {
    await c.end();
  }
}

describe('PostgresLease', () => {
  it('has one holder; a holder whose connection is killed loses it once and someone takes it; each lease keeps one connection', async () => {
    const log: string[] = [];
    const [a, b] = [lease('a', log), lease('b', log)];
    a.start();
    await until(() => a.holding);
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    expect([a.holding, b.holding]).toEqual([true, false]);
    expect(await connections()).toBe(2);

    // The server ends the holder's connection: an error and an end, one loss.
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lease-test' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')");
    await admin.end();
    await until(() => log.includes('a-'));
    await until(() => a.holding !== b.holding, 5000);
    await new Promise((r) => setTimeout(r, 500));
    expect(log.filter((x) => x === 'a-')).toHaveLength(1);
    expect(Number(a.holding) + Number(b.holding)).toBe(1);
    // No second retry loop: still one connection per lease after several retry periods.
    expect(await connections()).toBe(2);

    // The holder stops: it gives the lease up and the other takes it.
    const [holder, other] = a.holding ? [a, b] : [b, a];
    await holder.stop();
    await until(() => other.holding, 5000);
    await other.stop();
    expect(await connections()).toBe(0);
    const balance = (n: string) => log.filter((x) => x === `${n}+`).length - log.filter((x) => x === `${n}-`).length;
    expect([balance('a'), balance('b')]).toEqual([0, 0]);
  }, 30_000);

  it('survives a database restart: after it, one holder again and no doubled loops', async () => {
    const log: string[] = [];
    const [a, b] = [lease('a', log), lease('b', log)];
    a.start();
    b.start();
    await until(() => a.holding || b.holding);
    await server.kill();
    await until(() => !a.holding && !b.holding, 10_000);
    await server.restart();
    await until(() => a.holding || b.holding, 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(Number(a.holding) + Number(b.holding)).toBe(1);
    expect(await connections()).toBe(2);
    await a.stop();
    await b.stop();
  }, 60_000);
});
