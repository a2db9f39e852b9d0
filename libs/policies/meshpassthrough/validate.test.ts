import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshPassthroughType } from './descriptor.ts';

const m = 'spec.default.appendMatch';

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
        'default: {passthroughMode: Some, appendMatch: [{type: IP, value: 300.0.0.1}, {type: CIDR, value: 10.0.0.0/33}, {type: Domain, value: "-bad-.com", protocol: tcp}, {type: Hostname, value: x}]}',
        `violations:
  - {field: spec.default.passthroughMode, message: "must be one of: All, Matched, None"}
  - {field: "${m}[0].value", message: provided IP has incorrect value}
  - {field: "${m}[1].value", message: provided CIDR has incorrect value}
  - {field: "${m}[2].value", message: provided DNS has incorrect value}
  - {field: "${m}[2].protocol", message: protocol tcp is not supported for a domain}
  - {field: "${m}[3].type", message: "must be one of: Domain, IP, CIDR"}`,
      ],
      [
        'unsupported top-level kind',
        'targetRef: {kind: MeshService, name: backend}\ndefault: {passthroughMode: All}',
        'violations: [{field: spec.targetRef.kind, message: value is not supported}]',
      ],
    ],
  );
});
