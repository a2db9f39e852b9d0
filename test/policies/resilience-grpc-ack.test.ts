import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../libs/testkit/eventually.ts';
import { startPlainGreeter, xdsGreeterClient } from '../../libs/testkit/grpc-apps.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { meshCircuitBreakerPlugin } from '../../libs/policies/meshcircuitbreaker/plugin.ts';
import { meshHealthCheckPlugin } from '../../libs/policies/meshhealthcheck/plugin.ts';
import { meshLoadBalancingStrategyPlugin } from '../../libs/policies/meshloadbalancingstrategy/plugin.ts';
import { meshRetryPlugin } from '../../libs/policies/meshretry/plugin.ts';
import { meshTimeoutPlugin } from '../../libs/policies/meshtimeout/plugin.ts';
import type { TranslationPlugin } from '../../libs/xds/generate/plugin.ts';
import { clientSnapshot, type Backend } from './grpc-case.ts';
import { InProcessAds } from './in-process-ads.ts';

/**
 * A real @grpc/grpc-js-xds client gets each plugin's Listener, RouteConfiguration (inline),
 * Cluster and ClusterLoadAssignment from the project's ADS service and ACKs them: it calls the
 * real backends through them, and no stream of it ever NACKed. grpc-js-xds validates strictly
 * (an lb_policy or filter it does not know is a NACK), so a NACK here means gRPC clients of a
 * service with that policy would be broken. One ADS server and two backends for the file.
 */
let ads: InProcessAds;
const backends: Backend[] = [];
const stops: (() => Promise<void> | void)[] = [];
let node = 0;

beforeAll(async () => {
  ads = await InProcessAds.start();
  for (const [name, zone] of [['greeter-1', 'zone-1'], ['greeter-2', 'zone-2']] as const) {
    const port = await freePort();
    const s = await startPlainGreeter(port, name);
    stops.push(s.stop);
    backends.push({ name, port, zone });
  }
});

afterAll(async () => {
  for (const s of stops) await s();
  ads?.stop();
});

/** Serves the client's snapshot under a fresh node id, calls greeter a few times, and returns what answered plus the NACKs. */
async function callThrough(plugins: TranslationPlugin[], policies: Parameters<typeof clientSnapshot>[2], calls = 4): Promise<{ answers: string[]; nacks: string[]; acked: string[] }> {
  // A fresh proxy name per case: grpc-js-xds shares one xDS client per bootstrap.
  const proxy = `default.client-${++node}`;
  ads.serve(proxy, clientSnapshot(backends, plugins, policies));
  const client = xdsGreeterClient({ serverUri: ads.uri, nodeId: proxy, service: 'greeter' });
  try {
    const answers: string[] = [];
    for (let i = 0; i < calls; i++) answers.push(await client.hello(5000));
    const acked = await eventually(async () => {
      const types = ads.typeStatus(proxy).flatMap((s) => Object.entries(s).filter(([, c]) => c.responsesAcknowledged > 0).map(([t]) => t));
      for (const t of ['lds', 'cds', 'eds']) if (!types.includes(t)) throw new Error(`no ${t} ACK yet: ${types.join(',')}`);
      return [...new Set(types)].sort();
    }, 5000);
    return { answers, nacks: ads.nacks(proxy), acked };
  } finally {
    client.close();
  }
}

const greeter = (conf: unknown) => ({ greeter: conf });

describe('grpc-js-xds ACKs what the resilience plugins produce', () => {
  it('MeshTimeout (connect/idle timeouts on the cluster, max_stream_duration on the route)', async () => {
    const r = await callThrough([meshTimeoutPlugin], {
      toService: { MeshTimeout: greeter({ connectionTimeout: '2s', idleTimeout: '10m', http: { requestTimeout: '5s', streamIdleTimeout: '1m', maxStreamDuration: '1h' } }) },
    });
    expect(r.nacks).toEqual([]);
    expect(r.acked).toEqual(['cds', 'eds', 'lds']);
    expect(r.answers).toHaveLength(4);
  });

  it('MeshRetry (gRPC retry_policy with back-off on the route)', async () => {
    const r = await callThrough([meshRetryPlugin], {
      toService: {
        MeshRetry: greeter({
          tcp: { maxConnectAttempt: 5 },
          grpc: { numRetries: 3, perTryTimeout: '1s', backOff: { maxInterval: '100ms' }, retryOn: ['Canceled', 'DeadlineExceeded', 'Internal', 'ResourceExhausted', 'Unavailable'] },
        }),
      },
    });
    expect(r.nacks).toEqual([]);
    expect(r.answers).toHaveLength(4);
  });

  it('MeshCircuitBreaker (thresholds and outlier detection with every detector on the cluster)', async () => {
    const r = await callThrough([meshCircuitBreakerPlugin], {
      toService: {
        MeshCircuitBreaker: greeter({
          connectionLimits: { maxConnections: 100, maxPendingRequests: 100, maxRequests: 100, maxRetries: 3, maxConnectionPools: 10 },
          outlierDetection: {
            interval: '5s',
            baseEjectionTime: '30s',
            maxEjectionPercent: 50,
            splitExternalAndLocalErrors: true,
            detectors: {
              totalFailures: { consecutive: 5 },
              gatewayFailures: { consecutive: 5 },
              localOriginFailures: { consecutive: 5 },
              successRate: { minimumHosts: 2, requestVolume: 10, standardDeviationFactor: '1.9' },
              failurePercentage: { minimumHosts: 2, requestVolume: 10, threshold: 85 },
            },
          },
        }),
      },
    });
    expect(r.nacks).toEqual([]);
    expect(r.answers).toHaveLength(4);
  });

  it('MeshHealthCheck (gRPC health check, panic threshold; gRPC ignores health_checks)', async () => {
    const r = await callThrough([meshHealthCheckPlugin], {
      toService: {
        MeshHealthCheck: greeter({
          interval: '10s',
          timeout: '2s',
          healthyPanicThreshold: 60,
          failTrafficOnPanic: true,
          eventLogPath: '/tmp/hc.log',
          grpc: { serviceName: 'kuma.test.Greeter', authority: 'greeter' },
          tcp: { send: 'ping', receive: ['pong'] },
        }),
      },
    });
    expect(r.nacks).toEqual([]);
    expect(r.answers).toHaveLength(4);
  });

  it.each([
    ['RingHash (XXHash) with header and channel-id hash policies', { type: 'RingHash', ringHash: { minRingSize: 64, maxRingSize: 4096, hashPolicies: [{ type: 'Header', header: { name: 'x-user' } }, { type: 'FilterState', filterState: { key: 'io.grpc.channel_id' } }] } }],
    ['LeastRequest (typed policy, round robin for gRPC)', { type: 'LeastRequest', leastRequest: { choiceCount: 3, activeRequestBias: 1 } }],
    ['Maglev (typed policy, round robin for gRPC)', { type: 'Maglev', maglev: { tableSize: 1009, hashPolicies: [{ type: 'Header', header: { name: 'x-user' } }] } }],
    ['Random (typed policy, round robin for gRPC)', { type: 'Random' }],
    ['RoundRobin', { type: 'RoundRobin' }],
  ])('MeshLoadBalancingStrategy %s, with zone priorities', async (_name, loadBalancer) => {
    const r = await callThrough([meshLoadBalancingStrategyPlugin], { toService: { MeshLoadBalancingStrategy: greeter({ loadBalancer }) } });
    expect(r.nacks).toEqual([]);
    // Locality awareness: greeter-2 (zone-2) is at priority 1 and never used while zone-1 is healthy.
    expect(new Set(r.answers)).toEqual(new Set(['hello from greeter-1']));
  });

  it('all five plugins together', async () => {
    const r = await callThrough([meshTimeoutPlugin, meshRetryPlugin, meshCircuitBreakerPlugin, meshHealthCheckPlugin, meshLoadBalancingStrategyPlugin], {
      toService: {
        MeshTimeout: greeter({ connectionTimeout: '5s', http: { requestTimeout: '15s' } }),
        MeshRetry: greeter({ grpc: { numRetries: 5, backOff: { baseInterval: '25ms', maxInterval: '250ms' } } }),
        MeshCircuitBreaker: greeter({ connectionLimits: { maxConnections: 1024 }, outlierDetection: { detectors: { totalFailures: { consecutive: 3 } } } }),
        MeshHealthCheck: greeter({ grpc: {} }),
        MeshLoadBalancingStrategy: greeter({ localityAwareness: { disabled: true }, loadBalancer: { type: 'RingHash' } }),
      },
    }, 20);
    expect(r.nacks).toEqual([]);
    expect(r.answers).toHaveLength(20);
  });

  it('the harness sees a NACK: MurmurHash2 ring hash is rejected by gRPC (a known Envoy-only shape)', async () => {
    const proxy = `default.client-${++node}`;
    ads.serve(proxy, clientSnapshot(backends, [meshLoadBalancingStrategyPlugin], { toService: { MeshLoadBalancingStrategy: greeter({ loadBalancer: { type: 'RingHash', ringHash: { hashFunction: 'MurmurHash2' } } }) } }));
    const client = xdsGreeterClient({ serverUri: ads.uri, nodeId: proxy, service: 'greeter' });
    try {
      await expect(client.hello(1500)).rejects.toThrow();
      const nacks = await eventually(async () => {
        const n = ads.nacks(proxy);
        if (n.length === 0) throw new Error('no NACK yet');
        return n;
      }, 5000);
      expect(nacks.join('\n')).toMatch(/^cds: .*hash_function/m);
    } finally {
      client.close();
    }
  });
});
