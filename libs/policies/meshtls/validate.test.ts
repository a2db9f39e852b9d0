import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshTLSType } from './descriptor.ts';

describe('MeshTLS validation', () => {
  describeCases(
    MeshTLSType,
    [
      ['from', 'targetRef: {kind: Mesh}\nfrom: [{targetRef: {kind: Mesh}, default: {mode: Strict, tlsVersion: {min: TLS12, max: TLS13}, tlsCiphers: [ECDHE-RSA-AES128-GCM-SHA256]}}]'],
      ['rules on a Dataplane', 'targetRef: {kind: Dataplane, labels: {app: a}}\nrules: [{default: {mode: Permissive}}]'],
    ],
    [
      [
        'rules mixed with from',
        'rules: [{default: {mode: Strict}}]\nfrom: [{targetRef: {kind: Mesh}, default: {mode: Strict}}]',
        "violations: [{field: spec, message: \"field 'from' must be empty when 'rules' is defined\"}]",
      ],
      [
        'unknown mode, ciphers and versions outside a top-level Mesh',
        'targetRef: {kind: MeshSubset, tags: {a: b}}\nrules: [{default: {mode: Lenient, tlsCiphers: [ECDHE-RSA-AES128-GCM-SHA256], tlsVersion: {min: TLS13}}}]',
        `violations:
  - {field: "spec.rules[0].default.mode", message: '"mode" must be one of ["Permissive", "Strict"]'}
  - {field: "spec.rules[0].default.tlsCiphers", message: "tlsCiphers can only be defined with top level targetRef kind: Mesh"}
  - {field: "spec.rules[0].default.tlsVersion", message: "tlsVersion can only be defined with top level targetRef kind: Mesh"}`,
      ],
      [
        'unsupported kinds',
        'targetRef: {kind: MeshService, name: backend}\nfrom: [{targetRef: {kind: MeshSubset, tags: {a: b}}, default: {}}]',
        `violations:
  - {field: spec.targetRef.kind, message: value is not supported}
  - {field: "spec.from[0].targetRef.kind", message: value is not supported}`,
      ],
    ],
  );
});
