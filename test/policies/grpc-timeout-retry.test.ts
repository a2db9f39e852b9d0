import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshRetryPlugin } from '../../libs/policies/meshretry/plugin.ts';
import { meshTimeoutPlugin } from '../../libs/policies/meshtimeout/plugin.ts';
import { greeterService, xdsGreeterClient } from '../../libs/testkit/grpc-apps.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { clientSnapshot } from './grpc-case.ts';
import { InProcessAds } from './in-process-ads.ts';

/**
 * Policies that change what a real gRPC call does: a real grpc-js-xds client, configured only
 * by the snapshot a plugin produced (served by the project's ADS service), calls real gRPC
 * servers. Each check has a control without the policy, so the effect is the policy's.
 */
let ads: InProcessAds;
const servers: grpc.Server[] = [];
let node = 0;

/** A Greeter server whose handler is `behaviour(callNumber)`: an error, or a reply after a delay. */
async function startGreeter(behaviour: (n: number) => { error?: grpc.status; delayMs?: number }): Promise<{ port: number; calls: () => number }> {
  let calls = 0;
  const server = new grpc.Server();
  server.addService(greeterService, {
    hello: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const b = behaviour(++calls);
      setTimeout(() => (b.error !== undefined ? cb({ code: b.error, details: `failing call ${calls}` }) : cb(null, Buffer.from('hello'))), b.delayMs ?? 0);
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  servers.push(server);
  return { port, calls: () => calls };
}

/** One unary call through the xDS client of a fresh proxy, configured by `plugins` with `policies`, to the server on `port`. */
async function call(port: number, plugins: Parameters<typeof clientSnapshot>[1], policies: Parameters<typeof clientSnapshot>[2], deadlineMs: number): Promise<{ ok: boolean; code?: number; ms: number }> {
  const proxy = `default.client-${++node}`;
  ads.serve(proxy, clientSnapshot([{ name: 'greeter-1', port, zone: 'zone-1' }], plugins, policies));
  const client = xdsGreeterClient({ serverUri: ads.uri, nodeId: proxy, service: 'greeter' });
  // The time includes the client's xDS resolution (tens of ms against a local ADS server).
  const start = Date.now();
  try {
    await client.hello(deadlineMs);
    return { ok: true, ms: Date.now() - start };
  } catch (e) {
    return { ok: false, code: (e as grpc.ServiceError).code, ms: Date.now() - start };
  } finally {
    expect(ads.nacks(proxy)).toEqual([]);
    client.close();
  }
}

beforeAll(async () => {
  ads = await InProcessAds.start();
});

afterAll(() => {
  for (const s of servers) s.forceShutdown();
  ads?.stop();
});

describe('MeshTimeout on a real gRPC call', () => {
  it('http.requestTimeout ends a call to a slow server with DEADLINE_EXCEEDED; without it the call completes', async () => {
    const slow = await startGreeter(() => ({ delayMs: 1500 }));
    const timeout = { toService: { MeshTimeout: { greeter: { http: { requestTimeout: '300ms' } } } } };

    const limited = await call(slow.port, [meshTimeoutPlugin], timeout, 10_000);
    expect(limited.ok).toBe(false);
    expect(limited.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    // The policy's 300ms, not the client's 10s deadline (xDS resolution included).
    expect(limited.ms).toBeLessThan(1400);

    const control = await call(slow.port, [meshTimeoutPlugin], {}, 10_000);
    expect(control.ok).toBe(true);
    expect(control.ms).toBeGreaterThanOrEqual(1400);
  });
});

describe('MeshRetry on a real gRPC call', () => {
  it('a call whose first attempt fails with UNAVAILABLE succeeds on the second attempt; without the policy it fails', async () => {
    const flaky = await startGreeter((n) => (n === 1 ? { error: grpc.status.UNAVAILABLE } : {}));
    const retry = { toService: { MeshRetry: { greeter: { grpc: { numRetries: 2, retryOn: ['Unavailable'], backOff: { baseInterval: '10ms', maxInterval: '50ms' } } } } } };
    const retried = await call(flaky.port, [meshRetryPlugin], retry, 5000);
    expect(retried).toMatchObject({ ok: true });
    expect(flaky.calls()).toBe(2);

    const flaky2 = await startGreeter((n) => (n === 1 ? { error: grpc.status.UNAVAILABLE } : {}));
    const control = await call(flaky2.port, [meshRetryPlugin], {}, 5000);
    expect(control).toMatchObject({ ok: false, code: grpc.status.UNAVAILABLE });
    expect(flaky2.calls()).toBe(1);
  });

  it('a status code not in retryOn is not retried', async () => {
    const flaky = await startGreeter((n) => (n === 1 ? { error: grpc.status.INTERNAL } : {}));
    const retry = { toService: { MeshRetry: { greeter: { grpc: { numRetries: 2, retryOn: ['Unavailable'] } } } } };
    const r = await call(flaky.port, [meshRetryPlugin], retry, 5000);
    expect(r).toMatchObject({ ok: false, code: grpc.status.INTERNAL });
    expect(flaky.calls()).toBe(1);
  });
});
