import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshTCPRouteType } from './descriptor.ts';

const route = (backends: string, top = '{kind: Mesh}', to = '{kind: MeshService, name: backend}') =>
  `targetRef: ${top}\nto: [{targetRef: ${to}, rules: [{default: {backendRefs: ${backends}}}]}]`;

// Cases after pkg/plugins/policies/meshtcproute/api/v1alpha1/validator_test.go.
describe('MeshTCPRoute validation', () => {
  describeCases(
    MeshTCPRouteType,
    [
      ['weighted split', route('[{kind: MeshService, name: backend, weight: 90}, {kind: MeshServiceSubset, name: backend, tags: {version: v2}, weight: 10}]')],
      ['MeshGateway to Mesh', route('[{kind: MeshService, name: backend}]', '{kind: MeshGateway, name: edge}', '{kind: Mesh}')],
      ['MeshMultiZoneService with port', route('[{kind: MeshMultiZoneService, name: backend, port: 80}]')],
    ],
    [
      ['empty backendRefs', route('[]'), 'violations: [{field: "spec.to[0].rules[0].default.backendRefs", message: must be defined}]'],
      [
        'unsupported backendRefs kind',
        route('[{kind: MeshGateway, name: edge}]'),
        'violations: [{field: "spec.to[0].rules[0].default.backendRefs[0].kind", message: value is not supported}]',
      ],
      [
        'unsupported to kind',
        route('[{kind: MeshService, name: backend}]', '{kind: Mesh}', '{kind: MeshSubset, tags: {a: b}}'),
        'violations: [{field: "spec.to[0].targetRef.kind", message: value is not supported}]',
      ],
      [
        'MeshGateway to MeshService',
        route('[{kind: MeshService, name: backend}]', '{kind: MeshGateway, name: edge}'),
        'violations: [{field: "spec.to[0].targetRef.kind", message: value is not supported}]',
      ],
      [
        'from is not a section of this policy',
        'targetRef: {kind: Mesh}\nfrom: [{targetRef: {kind: Mesh}}]',
        'violations: [{field: spec.from, message: unknown field}]',
      ],
    ],
  );
});
