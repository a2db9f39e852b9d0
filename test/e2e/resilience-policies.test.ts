import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../libs/testkit/eventually.ts';
import { greeterService, xdsGreeterClient } from '../../libs/testkit/grpc-apps.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { freePort } from '../../libs/testkit/ports.ts';

/**
 * MeshTimeout and MeshRetry end to end: REST -> policy engine -> translator plugins -> xDS ->
 * a real grpc-js-xds client calling real gRPC servers.
 *
 * Skipped: kuma-cp runs the plugins that `policyPlugins()` (libs/policies/plugins.ts) lists, and
 * the resilience plugins are not listed there yet: listing them applies the default policies
 * (mesh-timeout-all, mesh-retry-all, mesh-circuit-breaker-all) to every proxy of every test,
 * which the lead does when merging. With the five `*Plugins()` of libs/policies/<name>/index.ts
 * listed there, this file passes (checked on this branch). The same behaviours are proven at the
 * plugin level, against the project's ADS service, in test/policies/grpc-timeout-retry.test.ts.
 */
describe('resilience policies through kuma-cp', () => {
  let cp: KumaCpProcess;
  const servers: grpc.Server[] = [];
  let flakyCalls = 0;

  const dp = (name: string, port: number, service: string, extra: object = {}) => ({
    type: 'Dataplane',
    mesh: 'default',
    name,
    networking: { address: '127.0.0.1', inbound: [{ port, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'grpc' } }], ...extra },
  });

  async function greeter(handler: (cb: grpc.sendUnaryData<Buffer>) => void): Promise<number> {
    const server = new grpc.Server();
    server.addService(greeterService, { hello: (_c: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => handler(cb) });
    const port = await freePort();
    await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    servers.push(server);
    return port;
  }

  beforeAll(async () => {
    cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'memory', KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE: 'none' } });
    const slowPort = await greeter((cb) => setTimeout(() => cb(null, Buffer.from('slow')), 1500));
    const flakyPort = await greeter((cb) => (++flakyCalls === 1 ? cb({ code: grpc.status.UNAVAILABLE }) : cb(null, Buffer.from('ok'))));
    for (const [name, port, svc, extra] of [
      ['slow-1', slowPort, 'slow', {}],
      ['flaky-1', flakyPort, 'flaky', {}],
      ['client-1', 19998, 'client', { outbound: [{ port: 10001, tags: { 'kuma.io/service': 'slow' } }, { port: 10002, tags: { 'kuma.io/service': 'flaky' } }] }],
    ] as const) {
      expect((await http(cp.url, 'PUT', `/meshes/default/dataplanes/${name}`, dp(name, port, svc, extra))).status).toBe(201);
    }
    // Names sort before the defaults' (`mesh-...`): among policies of the same top-level kind the
    // alphabetically first name is merged last and wins (Kuma's ordering, KUMA-REFERENCE §2).
    const to = (service: string, conf: object) => ({ targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'MeshService', name: service }, default: conf }] });
    expect((await http(cp.url, 'PUT', '/meshes/default/meshtimeouts/deadline-slow', { type: 'MeshTimeout', mesh: 'default', name: 'deadline-slow', spec: to('slow', { http: { requestTimeout: '300ms' } }) })).status).toBe(201);
    expect((await http(cp.url, 'PUT', '/meshes/default/meshretries/flaky-retry', { type: 'MeshRetry', mesh: 'default', name: 'flaky-retry', spec: to('flaky', { grpc: { numRetries: 2, retryOn: ['Unavailable'], backOff: { baseInterval: '10ms' } } }) })).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    for (const s of servers) s.forceShutdown();
    await cp?.destroy();
  });

  it('a request to a slow service ends with DEADLINE_EXCEEDED after MeshTimeout http.requestTimeout', async () => {
    const client = xdsGreeterClient({ serverUri: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: 'default.client-1', service: 'slow' });
    try {
      await eventually(async () => {
        const start = Date.now();
        await expect(client.hello(10_000)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
        expect(Date.now() - start).toBeLessThan(1400);
      });
    } finally {
      client.close();
    }
  });

  it('a call failing once with UNAVAILABLE succeeds through MeshRetry', async () => {
    const client = xdsGreeterClient({ serverUri: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: 'default.client-1', service: 'flaky' });
    try {
      expect(await client.hello(5000)).toBe('ok');
      expect(flakyCalls).toBe(2);
    } finally {
      client.close();
    }
  });
});
