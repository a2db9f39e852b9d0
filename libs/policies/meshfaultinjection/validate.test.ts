import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshFaultInjectionType } from './descriptor.ts';

const from = (http: string) => `targetRef: {kind: MeshService, name: backend}\nfrom: [{targetRef: {kind: Mesh}, default: {http: ${http}}}]`;
const h = 'spec.from[0].default.http';

// Ported from pkg/plugins/policies/meshfaultinjection/api/v1alpha1/validator_test.go.
describe('MeshFaultInjection validation', () => {
  describeCases(
    MeshFaultInjectionType,
    [
      [
        'full example',
        from(`[{abort: {httpStatus: 500, percentage: 50}}, {delay: {value: 5s, percentage: "50.5"}}, {responseBandwidth: {limit: 100mbps, percentage: "0.0001"}}]`.replace('100mbps', '100Mbps')),
      ],
      ['gateway to Mesh', 'targetRef: {kind: MeshGateway, name: edge}\nto: [{targetRef: {kind: Mesh}, default: {http: [{abort: {httpStatus: 503, percentage: 10}}]}}]'],
      ['rules', "targetRef: {kind: Dataplane, labels: {app: a}}\nrules: [{matches: [{spiffeID: {type: Exact, value: 'spiffe://default/web'}}], default: {http: [{delay: {value: 1s, percentage: 100}}]}}]"],
    ],
    [
      [
        'wrong values',
        from(`[{abort: {httpStatus: 600, percentage: 101}}, {delay: {value: -5s, percentage: "-1"}}, {responseBandwidth: {limit: 100 bps, percentage: "x"}}]`),
        `violations:
  - {field: "${h}.abort[0].httpStatus", message: "must be in inclusive range [100, 599]"}
  - {field: "${h}.abort[0].percentage", message: "must be in inclusive range [0.0, 100.0]"}
  - {field: "${h}.delay[1].value", message: must not be negative when defined}
  - {field: "${h}.delay[1].percentage", message: "must be in inclusive range [0.0, 100.0]"}
  - {field: "${h}.responseBandwidth[2].responseBandwidth", message: must be in kbps/Mbps/Gbps units}
  - {field: "${h}.responseBandwidth[2].percentage", message: string must be a valid number}`,
      ],
      [
        'missing values',
        from('[{abort: {}}, {delay: {}}, {responseBandwidth: {}}]'),
        `violations:
  - {field: "${h}.abort[0].httpStatus", message: "must be in inclusive range [100, 599]"}
  - {field: "${h}.abort[0].percentage", message: must be defined}
  - {field: "${h}.delay[1].value", message: must be defined}
  - {field: "${h}.delay[1].percentage", message: must be defined}
  - {field: "${h}.responseBandwidth[2].responseBandwidth", message: must be defined}
  - {field: "${h}.responseBandwidth[2].percentage", message: must be defined}`,
      ],
      [
        'from with a gateway top-level targetRef',
        'targetRef: {kind: MeshGateway, name: edge}\nfrom: [{targetRef: {kind: Mesh}, default: {http: []}}]',
        'violations: [{field: spec.from, message: must not be defined}]',
      ],
      [
        'to without gateways',
        'targetRef: {kind: MeshService, name: backend}\nto: [{targetRef: {kind: Mesh}, default: {http: []}}]',
        'violations: [{field: spec.to, message: must not be defined}]',
      ],
      [
        'rules mixed with from',
        'targetRef: {kind: MeshService, name: backend}\nrules: [{default: {http: []}}]\nfrom: [{targetRef: {kind: Mesh}, default: {http: []}}]',
        "violations: [{field: spec, message: \"field 'from' must be empty when 'rules' is defined\"}]",
      ],
      [
        'matches sni incorrect',
        "targetRef: {kind: Dataplane}\nrules: [{matches: [{sni: {type: Prefix, value: sni.extsvc.default.zone-1.aws-aurora.8443}}], default: {http: [{responseBandwidth: {limit: 1000Mbps, percentage: 50}}]}}]",
        'violations: [{field: "spec.rules[0].matches[0].sni.type", message: \'unrecognized type "Prefix", supported values are: Exact\'}]',
      ],
      [
        'matches spiffeID incorrect',
        "targetRef: {kind: Dataplane}\nrules: [{matches: [{spiffeID: {type: Exact, value: not-valid}}], default: {http: [{responseBandwidth: {limit: 1000Mbps, percentage: 1}}]}}]",
        'violations: [{field: "spec.rules[0].matches[0].spiffeID", message: "must be a valid Spiffe ID: scheme is missing or invalid"}]',
      ],
      [
        'sectionName with outbound policy',
        'targetRef: {kind: Dataplane, sectionName: test}\nto: [{targetRef: {kind: MeshService, name: web-backend}, default: {http: []}}]',
        `violations:
  - {field: spec.targetRef.sectionName, message: can only be used with inbound policies}
  - {field: spec.to, message: must not be defined}`,
      ],
      [
        'a fractional percentage must be a string',
        from('[{abort: {httpStatus: 500, percentage: 12.5}}]'),
        `violations: [{field: "${h}.abort[0].percentage", message: 'must be an integer or a string holding a decimal number (e.g. "99.5")'}]`,
      ],
    ],
  );
});
