import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshRateLimitType } from './descriptor.ts';

const rules = (local: string) => `targetRef: {kind: Dataplane, labels: {app: backend}}\nrules: [{default: {local: ${local}}}]`;
const l = 'spec.rules[0].default.local';

// After pkg/plugins/policies/meshratelimit/api/v1alpha1/validator.go (2.x, with rules) and its tests.
describe('MeshRateLimit validation', () => {
  describeCases(
    MeshRateLimitType,
    [
      ['http and tcp limits', rules('{http: {requestRate: {num: 100, interval: 1s}, onRateLimit: {status: 429, headers: {add: [{name: x-limited, value: "true"}]}}}, tcp: {connectionRate: {num: 10, interval: 100ms}}}')],
      ['disabled', rules('{http: {disabled: true}}')],
      ['gateway to Mesh', 'targetRef: {kind: MeshGateway, name: edge}\nto: [{targetRef: {kind: Mesh}, default: {local: {http: {requestRate: {num: 1, interval: 1m}}}}}]'],
      ['sidecars only, from', 'targetRef: {kind: Mesh, proxyTypes: [Sidecar]}\nfrom: [{targetRef: {kind: Mesh}, default: {local: {tcp: {disabled: true}}}}]'],
    ],
    [
      [
        'rate below Kuma minimums',
        rules('{http: {requestRate: {num: 0, interval: 10ms}, onRateLimit: {status: 0}}, tcp: {connectionRate: {num: 1, interval: "1 s"}}}'),
        `violations:
  - {field: "${l}.http.requestRate.num", message: must be greater than 0}
  - {field: "${l}.http.requestRate.interval", message: "must be greater than: 50ms"}
  - {field: "${l}.http.onRateLimit.status", message: must be greater than 0}
  - {field: "${l}.tcp.connectionRate.interval", message: 'time: unknown unit " s" in duration "1 s"'}`,
      ],
      ['empty local', rules('{}'), `violations: [{field: "${l}", message: "must have at least one defined: tcp, http"}]`],
      [
        'empty http and tcp',
        rules('{http: {}, tcp: {}}'),
        `violations:
  - {field: "${l}.http", message: "must have at least one defined: disabled, requestRate, onRateLimit"}
  - {field: "${l}.tcp", message: "must have at least one defined: disabled, connectionRate"}`,
      ],
      ['missing local', 'targetRef: {kind: Dataplane}\nrules: [{default: {}}]', 'violations: [{field: "spec.rules[0].default.local", message: must be defined}]'],
      [
        'rules mixed with from, both forbidden with a scope that includes gateways',
        'targetRef: {kind: Mesh}\nrules: [{default: {local: {tcp: {disabled: true}}}}]\nfrom: [{targetRef: {kind: Mesh}, default: {local: {tcp: {disabled: true}}}}]',
        `violations:
  - {field: spec, message: "fields 'to' and 'from' must be empty when 'rules' is defined"}
  - {field: spec.rules, message: must not be defined}
  - {field: spec.from, message: "must not be defined when the scope includes a Gateway, select only proxyType Sidecar or select only gateways and use spec.to"}`,
      ],
      [
        'to without gateways',
        'targetRef: {kind: MeshService, name: backend}\nto: [{targetRef: {kind: Mesh}, default: {local: {tcp: {disabled: true}}}}]',
        'violations: [{field: spec.to, message: must not be defined}]',
      ],
    ],
  );
});
