import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshPassthroughType } from './descriptor.ts';

const m = 'spec.default.appendMatch';

// After pkg/plugins/policies/meshpassthrough/api/v1alpha1/validator.go (its messages verbatim).
describe('MeshPassthrough validation', () => {
  describeCases(
    MeshPassthroughType,
    [
      [
        'matched mode',
        'targetRef: {kind: Mesh}\ndefault: {passthroughMode: Matched, appendMatch: [{type: Domain, value: "*.example.com", port: 443, protocol: tls}, {type: IP, value: 10.0.0.1, port: 9000}, {type: CIDR, value: 10.0.0.0/8}, {type: CIDR, value: "fd00::/8", protocol: http}]}',
      ],
    ],
    [
      [
        'bad values and mode',
        'default: {passthroughMode: Some, appendMatch: [{type: IP, value: 300.0.0.1}, {type: CIDR, value: 10.0.0.0/33}, {type: Domain, value: "-bad-.com", protocol: tcp}, {type: Hostname, value: x}, {type: Domain, value: "*example.com", protocol: http, port: 80}, {type: IP, value: 1.1.1.1, port: 0, protocol: udp}]}',
        `violations:
  - {field: spec.default.passthroughMode, message: "must be one of: All, Matched, None"}
  - {field: "${m}[0].value", message: provided IP has incorrect value}
  - {field: "${m}[1].value", message: provided CIDR has incorrect value}
  - {field: "${m}[2].protocol", message: protocol tcp is not supported for a domain}
  - {field: "${m}[2].value", message: provided DNS has incorrect value}
  - {field: "${m}[3].type", message: "provided type Hostname is not supported, one of Domain, IP, or CIDR is supported"}
  - {field: "${m}[4].value", message: "provided DNS has incorrect value, partial wildcard is currently not supported"}
  - {field: "${m}[5].port", message: port must be a valid (1-65535)}
  - {field: "${m}[5].protocol", message: '"protocol" must be one of ["tcp", "tls", "grpc", "http", "http2"]'}`,
      ],
      [
        'the same value twice for a port and protocol',
        'default: {appendMatch: [{type: IP, value: 10.0.0.1, port: 80}, {type: IP, value: 10.0.0.1, port: 80}]}',
        `violations: [{field: "${m}[1].value", message: value 10.0.0.1 is already defiend for this port and protocol}]`,
      ],
      [
        'unsupported top-level kind',
        'targetRef: {kind: MeshService, name: backend}\ndefault: {passthroughMode: All}',
        'violations: [{field: spec.targetRef.kind, message: value is not supported}]',
      ],
    ],
  );
});
