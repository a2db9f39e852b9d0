import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshCircuitBreakerPlugin } from '../../libs/policies/meshcircuitbreaker/plugin.ts';
import { greeterService, startPlainGreeter, xdsGreeterClient } from '../../libs/testkit/grpc-apps.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { clientSnapshot, type Backend } from './grpc-case.ts';
import { InProcessAds } from './in-process-ads.ts';

/**
 * MeshCircuitBreaker outlier detection on real gRPC calls: gRPC implements the failure
 * percentage and success rate detectors (gRFC A50; not the consecutive ones), so a backend that
 * fails every call is ejected after an interval and calls stop failing. Control: without the
 * policy, calls keep failing.
 */
let ads: InProcessAds;
const backends: Backend[] = [];
const stops: (() => Promise<void> | void)[] = [];
let node = 0;

beforeAll(async () => {
  ads = await InProcessAds.start();
  const goodPort = await freePort();
  stops.push((await startPlainGreeter(goodPort, 'good')).stop);
  const badPort = await freePort();
  const bad = new grpc.Server();
  bad.addService(greeterService, { hello: (_c: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb({ code: grpc.status.UNAVAILABLE, details: 'always failing' }) });
  await new Promise<void>((resolve, reject) => bad.bindAsync(`127.0.0.1:${badPort}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  stops.push(() => bad.forceShutdown());
  backends.push({ name: 'good-1', port: goodPort, zone: 'zone-1' }, { name: 'bad-1', port: badPort, zone: 'zone-1' });
});

afterAll(async () => {
  for (const s of stops) await s();
  ads?.stop();
});

/** Failures among `n` calls per round, for `rounds` rounds `gapMs` apart. */
async function failuresPerRound(policies: Parameters<typeof clientSnapshot>[2], rounds: number, n: number, gapMs: number): Promise<number[]> {
  const proxy = `default.client-${++node}`;
  ads.serve(proxy, clientSnapshot(backends, [meshCircuitBreakerPlugin], policies));
  const client = xdsGreeterClient({ serverUri: ads.uri, nodeId: proxy, service: 'greeter' });
  try {
    const out: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let failed = 0;
      for (let i = 0; i < n; i++) await client.hello(3000).catch(() => failed++);
      out.push(failed);
      await new Promise((res) => setTimeout(res, gapMs));
    }
    expect(ads.nacks(proxy)).toEqual([]);
    return out;
  } finally {
    client.close();
  }
}

describe('MeshCircuitBreaker outlier detection on real gRPC calls', () => {
  it('ejects a backend failing every call (failure percentage detector); without the policy calls keep failing', async () => {
    const outlier = {
      toService: {
        MeshCircuitBreaker: {
          greeter: { outlierDetection: { interval: '500ms', baseEjectionTime: '30s', maxEjectionPercent: 50, detectors: { failurePercentage: { threshold: 50, minimumHosts: 2, requestVolume: 4 } } } },
        },
      },
    };
    const withPolicy = await failuresPerRound(outlier, 4, 20, 600);
    expect(withPolicy[0]).toBeGreaterThan(0);
    expect(withPolicy.at(-1)).toBe(0);

    const control = await failuresPerRound({}, 3, 20, 600);
    expect(control.at(-1)).toBeGreaterThan(0);
  });
});
