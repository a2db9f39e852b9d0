import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshLoadBalancingStrategyPlugin } from '../../libs/policies/meshloadbalancingstrategy/plugin.ts';
import { greeterService, grpcBootstrap, startPlainGreeter } from '../../libs/testkit/grpc-apps.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { clientSnapshot, type Backend } from './grpc-case.ts';
import { InProcessAds } from './in-process-ads.ts';

/**
 * MeshLoadBalancingStrategy RingHash on real gRPC calls: with a header hash policy, calls with
 * the same `x-user` always reach the same backend; without one, gRPC hashes each call randomly.
 */
let ads: InProcessAds;
const backends: Backend[] = [];
const stops: (() => Promise<void>)[] = [];
let node = 0;
const Client = grpc.makeGenericClientConstructor(greeterService, 'Greeter');

beforeAll(async () => {
  ads = await InProcessAds.start();
  for (const name of ['greeter-1', 'greeter-2']) {
    const port = await freePort();
    stops.push((await startPlainGreeter(port, name)).stop);
    backends.push({ name, port, zone: 'zone-1' });
  }
});

afterAll(async () => {
  for (const s of stops) await s();
  ads?.stop();
});

/** Which backend answered each call, per user: `calls` calls for each of `users`. */
async function answersByUser(ringHash: object, users: number, calls: number): Promise<Map<string, Set<string>>> {
  const proxy = `default.client-${++node}`;
  ads.serve(proxy, clientSnapshot(backends, [meshLoadBalancingStrategyPlugin], { toService: { MeshLoadBalancingStrategy: { greeter: { loadBalancer: { type: 'RingHash', ringHash } } } } }));
  const client = new Client('xds:///greeter', grpc.credentials.createInsecure(), { 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': grpcBootstrap(ads.uri, proxy) } as never);
  const hello = (user: string) =>
    new Promise<string>((resolve, reject) => {
      const md = new grpc.Metadata();
      md.set('x-user', user);
      (client as unknown as { hello: (r: Buffer, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: Error | null, r?: Buffer) => void) => void }).hello(
        Buffer.from('hi'),
        md,
        { deadline: Date.now() + 5000 },
        (e, r) => (e ? reject(e) : resolve(r!.toString())),
      );
    });
  try {
    const seen = new Map<string, Set<string>>();
    for (let u = 0; u < users; u++) {
      const set = new Set<string>();
      for (let i = 0; i < calls; i++) set.add(await hello(`user-${u}`));
      seen.set(`user-${u}`, set);
    }
    expect(ads.nacks(proxy)).toEqual([]);
    return seen;
  } finally {
    client.close();
  }
}

describe('MeshLoadBalancingStrategy RingHash on real gRPC calls', () => {
  it('a header hash policy pins each user to one backend, and users spread over both', async () => {
    const seen = await answersByUser({ hashPolicies: [{ type: 'Header', header: { name: 'x-user' } }] }, 16, 5);
    for (const [user, backendsSeen] of seen) expect(backendsSeen.size, user).toBe(1);
    expect(new Set([...seen.values()].flatMap((s) => [...s])).size).toBe(2);
  });

  it('without a hash policy the same user reaches both backends', async () => {
    const seen = await answersByUser({}, 1, 40);
    expect(seen.get('user-0')!.size).toBe(2);
  });
});
