import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshTrafficPermissionType } from './descriptor.ts';

// Ported from pkg/plugins/policies/meshtrafficpermission/api/v1alpha1/validator_test.go.
describe('MeshTrafficPermission validation', () => {
  describeCases(
    MeshTrafficPermissionType,
    [
      [
        'full example',
        `
targetRef: {kind: MeshService, name: backend}
from:
  - {targetRef: {kind: Mesh}, default: {action: Allow}}
  - {targetRef: {kind: MeshService, name: web-frontend}, default: {action: Deny}}
  - {targetRef: {kind: MeshSubset, tags: {kuma.io/zone: us-east}}, default: {action: AllowWithShadowDeny}}
  - {targetRef: {kind: MeshServiceSubset, name: backend, tags: {version: v1}}, default: {action: Allow}}`,
      ],
      ['allow MeshServiceSubset at top-level targetRef', 'targetRef: {kind: MeshServiceSubset, name: backend, tags: {version: v2}}\nfrom: [{targetRef: {kind: Mesh}, default: {action: Deny}}]'],
      [
        'rules with spiffeID matches',
        `
targetRef: {kind: Dataplane, labels: {app: backend}, sectionName: http}
rules:
  - default:
      allow: [{spiffeID: {type: Exact, value: "spiffe://trust-domain.mesh/ns/default/sa/frontend"}}]
      deny: [{spiffeID: {type: Prefix, value: "spiffe://trust-domain.mesh/ns/untrusted/"}}]`,
      ],
    ],
    [
      ['default is nil', 'targetRef: {kind: Mesh}\nfrom: [{targetRef: {kind: Mesh}}]', 'violations: [{field: "spec.from[0].default.action", message: must be defined}]'],
      ['neither from nor rules', 'targetRef: {kind: Mesh}', "violations: [{field: spec, message: \"at least one of 'from' or 'rules' has to be defined\"}]"],
      [
        'unsupported kind in from selector',
        'targetRef: {kind: MeshService, name: backend}\nfrom: [{targetRef: {kind: MeshGatewayRoute}, default: {action: Allow}}]',
        'violations: [{field: "spec.from[0].targetRef.kind", message: value is not supported}]',
      ],
      [
        'unsupported kind in top-level targetRef',
        'targetRef: {kind: MeshGateway, name: edge}\nfrom: [{targetRef: {kind: Mesh}, default: {action: Allow}}]',
        'violations: [{field: spec.targetRef.kind, message: value is not supported}]',
      ],
      [
        'empty default',
        'targetRef: {kind: MeshService, name: backend}\nfrom: [{targetRef: {kind: Mesh}, default: {}}]',
        'violations: [{field: "spec.from[0].default.action", message: must be defined}]',
      ],
      [
        'rules mixed with from',
        "targetRef: {kind: Mesh}\nrules: [{default: {allow: [{spiffeID: {type: Exact, value: 'spiffe://a/b'}}]}}]\nfrom: [{targetRef: {kind: Mesh}, default: {action: Allow}}]",
        "violations: [{field: spec, message: \"field 'from' must be empty when 'rules' is defined\"}]",
      ],
      [
        'rule without allow or deny',
        'targetRef: {kind: Mesh}\nrules: [{default: {}}]',
        "violations: [{field: \"spec.rules[0]\", message: \"at least one of 'allow', 'allowWithShadowDeny', 'deny' has to be defined\"}]",
      ],
      [
        'unknown action and field',
        'from: [{targetRef: {kind: Mesh}, default: {action: Permit, log: true}}]',
        `violations:
  - {field: "spec.from[0].default.log", message: unknown field}
  - {field: "spec.from[0].default.action", message: "must be one of: Allow, Deny, AllowWithShadowDeny"}`,
      ],
    ],
  );
});
