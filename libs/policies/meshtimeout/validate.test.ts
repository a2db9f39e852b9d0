import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshTimeoutType } from './descriptor.ts';

// Ported from pkg/plugins/policies/meshtimeout/api/v1alpha1/validator_test.go (Kuma 2.x).
describe('MeshTimeout validation', () => {
  describeCases(
    MeshTimeoutType,
    [
      [
        'full example',
        `
targetRef: {kind: MeshService, name: web-frontend}
from:
  - targetRef: {kind: Mesh}
    default:
      connectionTimeout: 10s
      idleTimeout: 1h
      http: {requestTimeout: 0s, streamIdleTimeout: 1h, maxStreamDuration: 1h, maxConnectionDuration: 1h}
to:
  - targetRef: {kind: MeshService, name: web-backend}
    default:
      connectionTimeout: 10s
      idleTimeout: 1h
      http: {requestTimeout: 1s, streamIdleTimeout: 1h, maxStreamDuration: 1h, maxConnectionDuration: 1h}`,
      ],
      ['minimal example', 'targetRef: {kind: MeshService, name: web-frontend}\nto: [{targetRef: {kind: MeshService, name: web-backend}, default: {http: {requestTimeout: 1s}}}]'],
      ['top-level TargetRefKind is MeshHTTPRoute', 'targetRef: {kind: MeshHTTPRoute, name: route-1}\nto: [{targetRef: {kind: Mesh}, default: {http: {requestTimeout: 1s, streamIdleTimeout: 2s}}}]'],
      [
        'example MeshExternalService',
        `
targetRef: {kind: MeshSubset, tags: {kuma.io/service: web-frontend}}
to:
  - targetRef: {kind: MeshExternalService, name: web-backend}
    default: {http: {requestTimeout: 1s}}
  - targetRef: {kind: MeshExternalService, labels: {kuma.io/display-name: web-backend}}
    default: {http: {requestTimeout: 1s}}`,
      ],
      ['rules with matches', "rules: [{matches: [{spiffeID: {type: Prefix, value: 'spiffe://default/'}}], default: {idleTimeout: 20s}}]"],
      ['targetRef omitted (Mesh)', 'to: [{targetRef: {kind: Mesh}, default: {connectionTimeout: 1h30m}}]'],
      ['Dataplane with a section on an inbound policy', 'targetRef: {kind: Dataplane, labels: {app: web}, sectionName: http}\nrules: [{default: {idleTimeout: 1m}}]'],
    ],
    [
      ["empty 'from' and 'to' array", 'targetRef: {kind: Mesh}', "violations: [{field: spec, message: \"at least one of 'from', 'to' or 'rules' has to be defined\"}]"],
      [
        'unsupported kind in from selector',
        'targetRef: {kind: MeshService, name: web-frontend}\nfrom: [{targetRef: {kind: MeshGatewayRoute}, default: {http: {requestTimeout: 1s}}}]',
        'violations: [{field: "spec.from[0].targetRef.kind", message: value is not supported}]',
      ],
      [
        'unsupported kind in to selector',
        'targetRef: {kind: MeshService, name: web-frontend}\nto: [{targetRef: {kind: MeshServiceSubset}, default: {http: {requestTimeout: 1s}}}]',
        'violations: [{field: "spec.to[0].targetRef.kind", message: value is not supported}]',
      ],
      [
        'missing timeout configuration',
        'targetRef: {kind: MeshService, name: web-frontend}\nto: [{targetRef: {kind: MeshService, name: web-backend}}]',
        'violations: [{field: "spec.to[0].default", message: at least one timeout should be configured}]',
      ],
      [
        'timeout cannot be negative',
        'targetRef: {kind: MeshService, name: web-frontend}\nto: [{targetRef: {kind: MeshService, name: web-backend}, default: {idleTimeout: -1s}}]',
        'violations: [{field: "spec.to[0].default.idleTimeout", message: must not be negative when defined}]',
      ],
      [
        'multiple timeout cannot be negative',
        'targetRef: {kind: MeshService, name: web-frontend}\nto: [{targetRef: {kind: MeshService, name: web-backend}, default: {connectionTimeout: -1s, http: {requestTimeout: -10s}}}]',
        `violations:
  - {field: "spec.to[0].default.connectionTimeout", message: must be greater than zero when defined}
  - {field: "spec.to[0].default.http.requestTimeout", message: must not be negative when defined}`,
      ],
      [
        'empty http section',
        'targetRef: {kind: MeshService, name: web-frontend}\nto: [{targetRef: {kind: MeshService, name: web-backend}, default: {http: {}}}]',
        'violations: [{field: "spec.to[0].default.http", message: at least one timeout in this section should be configured}]',
      ],
      [
        'top-level targetRef is referencing MeshHTTPRoute',
        `
targetRef: {kind: MeshHTTPRoute, name: route-1}
to:
  - targetRef: {kind: MeshService, name: web-backend}
    default:
      connectionTimeout: 10s
      idleTimeout: 1h
      http: {requestTimeout: 1s, streamIdleTimeout: 1h, maxStreamDuration: 1h, maxConnectionDuration: 1h}
from:
  - targetRef: {kind: Mesh}
    default: {connectionTimeout: 11s}`,
        `violations:
  - {field: spec.from, message: must not be defined}
  - {field: "spec.to[0].targetRef.kind", message: value is not supported}
  - {field: "spec.to[0].default.connectionTimeout", message: "can't be specified when top-level TargetRef is referencing MeshHTTPRoute"}
  - {field: "spec.to[0].default.idleTimeout", message: "can't be specified when top-level TargetRef is referencing MeshHTTPRoute"}
  - {field: "spec.to[0].default.http.maxStreamDuration", message: "can't be specified when top-level TargetRef is referencing MeshHTTPRoute"}
  - {field: "spec.to[0].default.http.maxConnectionDuration", message: "can't be specified when top-level TargetRef is referencing MeshHTTPRoute"}`,
      ],
      [
        'top-level targetRef is referencing MeshGateway',
        `
targetRef: {kind: MeshGateway, name: gateway-1}
to: [{targetRef: {kind: MeshService, name: web-backend}, default: {connectionTimeout: 10s}}]
from: [{targetRef: {kind: Mesh}, default: {connectionTimeout: 11s}}]`,
        `violations:
  - {field: spec.from, message: must not be defined}
  - {field: "spec.to[0].targetRef.kind", message: value is not supported}`,
      ],
      [
        'to TargetRef using labels and name for MeshExternalService',
        'targetRef: {kind: Mesh}\nto: [{targetRef: {kind: MeshExternalService, name: web-backend, labels: {kuma.io/display-name: web-backend}}, default: {connectionTimeout: 10s, idleTimeout: 1h}}]',
        'violations: [{field: "spec.to[0].targetRef.labels", message: either labels or name must be specified}]',
      ],
      [
        'when rules is defined, to cannot be defined',
        'targetRef: {kind: Mesh}\nrules: [{default: {connectionTimeout: 10s}}]\nto: [{targetRef: {kind: MeshService, name: web-backend}, default: {connectionTimeout: 10s}}]',
        "violations: [{field: spec, message: \"fields 'to' and 'from' must be empty when 'rules' is defined\"}]",
      ],
      [
        'when rules is defined, from cannot be defined',
        'targetRef: {kind: Mesh}\nrules: [{default: {connectionTimeout: 10s}}]\nfrom: [{targetRef: {kind: Mesh}, default: {connectionTimeout: 10s}}]',
        "violations: [{field: spec, message: \"fields 'to' and 'from' must be empty when 'rules' is defined\"}]",
      ],
      // Beyond Kuma's table: what its strict decoder rejects before the validator runs.
      [
        'malformed duration',
        'to: [{targetRef: {kind: Mesh}, default: {connectionTimeout: 10 seconds, idleTimeout: 5}}]',
        `violations:
  - {field: "spec.to[0].default.connectionTimeout", message: 'time: unknown unit " seconds" in duration "10 seconds"'}
  - {field: "spec.to[0].default.idleTimeout", message: 'must be a duration string such as "1h30m" or "500ms"'}`,
      ],
      [
        'unknown fields',
        'targetRef: {kind: Mesh, bogus: 1}\nto: [{targetRef: {kind: Mesh}, default: {connectTimeout: 1s, http: {requestTimeout: 1s, retries: 3}}}]\nextra: true',
        `violations:
  - {field: spec.extra, message: unknown field}
  - {field: spec.targetRef.bogus, message: unknown field}
  - {field: "spec.to[0].default.connectTimeout", message: unknown field}
  - {field: "spec.to[0].default.http.retries", message: unknown field}`,
      ],
      [
        'Dataplane sectionName on an outbound-only policy',
        'targetRef: {kind: Dataplane, name: dp-1, sectionName: http}\nto: [{targetRef: {kind: Mesh}, default: {idleTimeout: 1s}}]',
        'violations: [{field: spec.targetRef.sectionName, message: can only be used with inbound policies}]',
      ],
    ],
  );
});
