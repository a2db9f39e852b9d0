import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { errors } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '../testkit/nats-server.ts';
import { avoidRequestCancelCost } from './nats-request-cost.ts';

let nats: NatsServer;
let nc: NatsConnection;
beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  nc.subscribe('echo', { callback: (_err, msg) => void msg.respond(msg.data) });
});
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

/** Counts the RequestErrors nats-core builds while `fn` runs (request.js reads the class off errors.js' exports). */
async function requestErrorsBuilt(fn: () => Promise<unknown>): Promise<number> {
  const require = createRequire(import.meta.url);
  const mod = require(join(dirname(require.resolve('@nats-io/nats-core')), 'errors.js')) as { RequestError: typeof errors.RequestError };
  const Original = mod.RequestError;
  let built = 0;
  mod.RequestError = class extends Original {
    constructor(...args: ConstructorParameters<typeof Original>) {
      super(...args);
      built++;
    }
  };
  try {
    await fn();
  } finally {
    mod.RequestError = Original;
  }
  return built;
}

const requests = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => nc.request('echo', String(i), { timeout: 2000 })));

describe('avoidRequestCancelCost (nats-core RequestOne.cancel)', () => {
  it('stops building a RequestError for every successful request, and requests still work', async () => {
    // Unpatched, each successful request builds one (this is what the patch removes).
    expect(await requestErrorsBuilt(() => requests(20))).toBe(20);
    expect(avoidRequestCancelCost()).toBe(true);
    expect(avoidRequestCancelCost()).toBe(true);
    let replies: string[] = [];
    expect(await requestErrorsBuilt(async () => (replies = (await requests(20)).map((m) => m.string())))).toBe(0);
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('keeps failures as they were: no responders, timeouts, and requests pending when the connection closes', async () => {
    avoidRequestCancelCost();
    await expect(nc.request('nobody.listens', '', { timeout: 1000 })).rejects.toBeInstanceOf(errors.RequestError);
    nc.subscribe('silent', { callback: () => undefined });
    await expect(nc.request('silent', '', { timeout: 200 })).rejects.toBeInstanceOf(errors.TimeoutError);
    const other = await connect({ servers: nats.url, noAsyncTraces: true });
    other.subscribe('slow', { callback: () => undefined });
    await other.flush();
    const pending = other.request('slow', '', { timeout: 5000 });
    await other.close();
    await expect(pending).rejects.toThrow();
  });
});
