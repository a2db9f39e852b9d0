import type { JsonObject } from '../resources/validation.ts';

/** A default resource to create with a Mesh: identity and spec (labels are computed by the writer). */
export interface DefaultPolicy {
  readonly type: string;
  readonly mesh: string;
  readonly name: string;
  readonly spec: Readonly<JsonObject>;
}

/**
 * Kuma's per-mesh default policies (pkg/defaults/mesh/*.go, constants in
 * pkg/plugins/policies/core/defaults/consts.go), in Kuma's creation order, skipping every type
 * named in `Mesh.skipCreatingInitialPolicies` (`*` skips all). Pure.
 */
export function defaultPoliciesFor(mesh: string, meshSpec: Readonly<JsonObject>): DefaultPolicy[] {
  const raw = meshSpec['skipCreatingInitialPolicies'];
  const skip = new Set(Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : []);
  if (skip.has('*')) return [];
  const all: DefaultPolicy[] = [
    {
      type: 'MeshTimeout',
      mesh,
      name: `mesh-timeout-all-${mesh}`,
      spec: {
        targetRef: { kind: 'Mesh', proxyTypes: ['Sidecar'] },
        from: [
          {
            targetRef: { kind: 'Mesh' },
            default: { connectionTimeout: '10s', idleTimeout: '2h', http: { requestTimeout: '0s', streamIdleTimeout: '1h', maxStreamDuration: '0s' } },
          },
        ],
        to: [
          {
            targetRef: { kind: 'Mesh' },
            default: { connectionTimeout: '5s', idleTimeout: '1h', http: { requestTimeout: '15s', streamIdleTimeout: '30m' } },
          },
        ],
      },
    },
    {
      type: 'MeshTimeout',
      mesh,
      name: `mesh-gateways-timeout-all-${mesh}`,
      spec: {
        targetRef: { kind: 'Mesh', proxyTypes: ['Gateway'] },
        from: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: '5m', http: { streamIdleTimeout: '5s', requestHeadersTimeout: '500ms' } } }],
        to: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: '1h', http: { streamIdleTimeout: '5s' } } }],
      },
    },
    {
      type: 'MeshCircuitBreaker',
      mesh,
      name: `mesh-circuit-breaker-all-${mesh}`,
      spec: {
        targetRef: { kind: 'Mesh' },
        to: [{ targetRef: { kind: 'Mesh' }, default: { connectionLimits: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 } } }],
      },
    },
    {
      type: 'MeshRetry',
      mesh,
      name: `mesh-retry-all-${mesh}`,
      spec: {
        targetRef: { kind: 'Mesh' },
        to: [
          {
            targetRef: { kind: 'Mesh' },
            default: {
              tcp: { maxConnectAttempt: 5 },
              http: { numRetries: 5, perTryTimeout: '16s', backOff: { baseInterval: '25ms', maxInterval: '250ms' } },
              grpc: { numRetries: 5, perTryTimeout: '16s', backOff: { baseInterval: '25ms', maxInterval: '250ms' } },
            },
          },
        ],
      },
    },
  ];
  return all.filter((p) => !skip.has(p.type));
}
