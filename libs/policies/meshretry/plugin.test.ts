import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { meshRetryPlugin } from './plugin.ts';
import { grpcRetryPolicy, httpRetryPolicy, proxylessGrpcRetryPolicy } from './retry-policy.ts';

describe('MeshRetry plugin (golden)', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshRetryPlugin])) it(name, run);
});

describe('MeshRetry retry policies', () => {
  it('status codes join retriable-status-codes once', () => {
    expect(httpRetryPolicy({ retryOn: ['503', 'GatewayError', '500'] })).toEqual({
      retry_on: 'gateway-error,retriable-status-codes',
      retriable_status_codes: [503, 500],
    });
    expect(httpRetryPolicy({ retryOn: ['503'] })!['retry_on']).toBe('gateway-error,connect-failure,refused-stream,retriable-status-codes');
  });

  it('unset fields keep Kuma defaults; numRetries 0 disables', () => {
    expect(httpRetryPolicy({})).toEqual({ retry_on: 'gateway-error,connect-failure,refused-stream' });
    expect(grpcRetryPolicy({})).toEqual({ retry_on: 'cancelled,connect-failure,gateway-error,refused-stream,reset,resource-exhausted,unavailable' });
    expect(httpRetryPolicy({ numRetries: 0, perTryTimeout: '1s' })).toBeUndefined();
    expect(grpcRetryPolicy(undefined)).toBeUndefined();
  });

  it('proxyless gRPC gets gRPC code names and always a base interval no larger than the max', () => {
    expect(proxylessGrpcRetryPolicy({ grpc: { retryOn: ['Canceled', 'Unavailable'], backOff: { maxInterval: '10ms' } } })).toEqual({
      retry_on: 'cancelled,unavailable',
      retry_back_off: { max_interval: { seconds: 0, nanos: 10_000_000 }, base_interval: { seconds: 0, nanos: 10_000_000 } },
    });
    expect(proxylessGrpcRetryPolicy({ grpc: { backOff: { maxInterval: '1s' } } })!['retry_back_off']).toEqual({ max_interval: { seconds: 1 }, base_interval: { seconds: 0, nanos: 25_000_000 } });
  });
});

describe('MeshRetry plugin per route', () => {
  it('a MeshHTTPRoute-targeted configuration replaces the service one on that route; routes without either get none', () => {
    const route = (name: string) => ({ name, match: { prefix: `/${name}` }, route: { cluster: 'backend' } });
    const drafts = [
      {
        typeUrl: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration' as const,
        name: 'outbound:backend',
        namedOnly: false,
        body: { name: 'outbound:backend', virtual_hosts: [{ name: 'backend', domains: ['*'], routes: [route('r1'), route('r2')] }] },
      },
    ];
    meshRetryPlugin.apply(drafts as never, { kind: 'routes', protocol: 'http', scoped: { routes: { r1: { http: { numRetries: 7 } } } } }, undefined as never);
    const actions = (drafts[0]!.body.virtual_hosts[0]!.routes as { route: Record<string, unknown> }[]).map((r) => r.route);
    expect(actions[0]!['retry_policy']).toEqual({ retry_on: 'gateway-error,connect-failure,refused-stream', num_retries: { value: 7 } });
    expect(actions[1]!['retry_policy']).toBeUndefined();
  });
});
