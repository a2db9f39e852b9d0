import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshHealthCheckType } from './descriptor.ts';

const to = (conf: string, top = '{kind: MeshService, name: backend}', target = '{kind: MeshService, name: web-backend}') =>
  `targetRef: ${top}\nto: [{targetRef: ${target}, default: ${conf}}]`;
const d = 'spec.to[0].default';

// Ported from pkg/plugins/policies/meshhealthcheck/api/v1alpha1/validator_test.go.
describe('MeshHealthCheck validation', () => {
  describeCases(
    MeshHealthCheckType,
    [
      [
        'full example',
        to(`{interval: 10s, timeout: 2s, unhealthyThreshold: 3, healthyThreshold: 1, initialJitter: 13s, intervalJitter: 15s, intervalJitterPercent: 10,
          healthyPanicThreshold: 62.9, failTrafficOnPanic: true, noTrafficInterval: 10s, eventLogPath: /tmp/health-check.log, alwaysLogHealthCheckFailures: true,
          reuseConnection: true, tcp: {disabled: true, send: Zm9v, receive: [YmFy, YmF6]}, http: {disabled: true, path: /health, expectedStatuses: [200, 201],
          requestHeadersToAdd: {set: [{name: Content-Type, value: application/json}], add: [{name: Accept, value: application/json}]}},
          grpc: {serviceName: grpc-client, authority: grpc-client.default.svc.cluster.local}}`.replace('62.9', '"62.9"')),
      ],
      ['MeshExternalService with a top-level Mesh', to('{http: {path: /}}', '{kind: Mesh}', '{kind: MeshExternalService, name: ext}')],
      ['to level MeshMultiZoneService', to('{interval: 10s, tcp: {disabled: true}}', '{kind: Mesh}', '{kind: MeshMultiZoneService, labels: {kuma.io/display-name: web-backend}}')],
      ['top level Dataplane to MeshExternalService', to('{interval: 10s, tcp: {disabled: true}}', '{kind: Dataplane}', '{kind: MeshExternalService, labels: {kuma.io/display-name: external}}')],
    ],
    [
      [
        'outside of range',
        to(`{interval: 0s, timeout: 0s, unhealthyThreshold: 0, healthyThreshold: 0, initialJitter: -2s, intervalJitter: -1s, intervalJitterPercent: 200,
          healthyPanicThreshold: 101, noTrafficInterval: -1s, http: {path: "", expectedStatuses: [99, 600]}}`),
        `violations:
  - {field: "${d}.interval", message: must be greater than zero when defined}
  - {field: "${d}.timeout", message: must be greater than zero when defined}
  - {field: "${d}.unhealthyThreshold", message: must be greater than zero when defined}
  - {field: "${d}.healthyThreshold", message: must be greater than zero when defined}
  - {field: "${d}.initialJitter", message: must be greater than zero when defined}
  - {field: "${d}.intervalJitter", message: must be greater than zero when defined}
  - {field: "${d}.intervalJitterPercent", message: "must be in inclusive range [0, 100]"}
  - {field: "${d}.healthyPanicThreshold", message: "must be in inclusive range [0.0, 100.0]"}
  - {field: "${d}.noTrafficInterval", message: must be greater than zero when defined}
  - {field: "${d}.http.path", message: must be defined}
  - {field: "${d}.http.expectedStatuses[0]", message: "must be in inclusive range [100, 599]"}
  - {field: "${d}.http.expectedStatuses[1]", message: "must be in inclusive range [100, 599]"}`,
      ],
      [
        'positive values are out of range (Kuma)',
        to('{interval: 10s, timeout: 2s, unhealthyThreshold: -3, healthyThreshold: 0, grpc: {}}', '{kind: Mesh}', '{kind: MeshService, labels: {kuma.io/display-name: web-backend}}'),
        `violations:
  - {field: "${d}.unhealthyThreshold", message: must be greater than zero when defined}
  - {field: "${d}.healthyThreshold", message: must be greater than zero when defined}`,
      ],
      [
        'all percentages are out of percentage range (Kuma)',
        to('{interval: 10s, timeout: 2s, unhealthyThreshold: 3, healthyThreshold: 1, intervalJitterPercent: 110, grpc: {}}', '{kind: Mesh}'),
        `violations: [{field: "${d}.intervalJitterPercent", message: "must be in inclusive range [0, 100]"}]`,
      ],
      ['path is invalid (Kuma)', to('{interval: 10s, eventLogPath: "#not_valid_path", grpc: {}}'), `violations: [{field: "${d}.eventLogPath", message: must be a valid path when defined}]`],
      ['no protocol', to('{interval: 10s}'), `violations: [{field: "${d}", message: "must have at least one defined: http, tcp, grpc"}]`],
      [
        'MeshExternalService without a top-level Mesh',
        to('{tcp: {}}', '{kind: MeshService, name: backend}', '{kind: MeshExternalService, name: ext}'),
        'violations: [{field: "spec.to[0].targetRef.kind", message: "kind MeshExternalService is only possible with targetRef.kind: Mesh"}]',
      ],
      ['invalid event log path', to('{eventLogPath: "relative/path", tcp: {}}'), `violations: [{field: "${d}.eventLogPath", message: must be a valid path when defined}]`],
      [
        'unsupported to kind',
        to('{tcp: {}}', '{kind: Mesh}', '{kind: MeshSubset, tags: {a: b}}'),
        'violations: [{field: "spec.to[0].targetRef.kind", message: value is not supported}]',
      ],
    ],
  );
});
