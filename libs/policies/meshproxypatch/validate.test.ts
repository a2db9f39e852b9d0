import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshProxyPatchType } from './descriptor.ts';

const mods = (list: string) => `targetRef: {kind: MeshService, name: backend}\ndefault: {appendModifications: ${list}}`;
const m = 'spec.default.appendModifications';

// After pkg/plugins/policies/meshproxypatch/api/v1alpha1/validator.go (its messages verbatim).
describe('MeshProxyPatch validation', () => {
  describeCases(
    MeshProxyPatchType,
    [
      [
        'every kind of modification',
        mods(`[
  {cluster: {operation: Add, value: "name: test-cluster"}},
  {cluster: {operation: Patch, match: {name: backend, origin: outbound}, jsonPatches: [{op: replace, path: /connectTimeout, value: 5s}]}},
  {listener: {operation: Remove, match: {origin: inbound}}},
  {networkFilter: {operation: AddFirst, match: {listenerName: "inbound:10.0.0.1:8080"}, value: "name: envoy.filters.network.local_ratelimit"}},
  {httpFilter: {operation: Patch, match: {name: envoy.filters.http.router}, value: "typedConfig: {}"}},
  {virtualHost: {operation: Add, match: {routeConfigurationName: outbound:backend}, value: "name: vh"}}]`),
      ],
    ],
    [
      ['no modifications', mods('[]'), `violations: [{field: ${m}, message: must not be empty}]`],
      [
        'operations and values',
        mods(`[{cluster: {operation: Add}, listener: {operation: Add}}, {httpFilter: {operation: Insert}}, {cluster: {operation: Add, match: {name: a}, value: "a: [1"}},
          {virtualHost: {operation: Patch, jsonPatches: [{op: merge, path: name}]}}, {httpFilter: {operation: AddBefore, value: "name: x"}}, {listener: {operation: Patch}},
          {cluster: {operation: Patch, value: "name: a", jsonPatches: [{op: remove, path: /a}]}}, {listener: {operation: Remove, value: "x: 1"}}]`),
        `violations:
  - {field: "${m}[0]", message: "exactly one modification can be defined at a time. Currently, 2 modifications are defined"}
  - {field: "${m}[1].httpFilter.operation", message: 'invalid operation. Available operations: "AddFirst", "AddLast", "AddBefore", "AddAfter", "Patch", "Remove"'}
  - {field: "${m}[2].cluster.match", message: must not be defined}
  - {field: "${m}[2].cluster.value", message: "native Envoy resource is not valid: Flow sequence in block collection must be sufficiently indented and end with a ] at line 1, column 6:"}
  - {field: "${m}[3].virtualHost.jsonPatches[0].op", message: "must be one of: add, remove, replace, move, copy, test"}
  - {field: "${m}[3].virtualHost.jsonPatches[0].path", message: must be a JSON pointer (start with /)}
  - {field: "${m}[4].httpFilter.match.name", message: must be defined. You need to pick a filter before which this one will be added}
  - {field: "${m}[5].listener", message: "${m}[5].listener must have exactly one defined: value, jsonPatches"}
  - {field: "${m}[6].cluster", message: "${m}[6].cluster must have only one type defined: value, jsonPatches"}
  - {field: "${m}[7].listener.value", message: must not be defined}`,
      ],
      [
        'MeshGateway listener tags are not allowed',
        'targetRef: {kind: MeshGateway, name: edge, tags: {port: "80"}}\ndefault: {appendModifications: [{listener: {operation: Remove}}]}',
        'violations: [{field: spec.targetRef.tags, message: must not be set with kind MeshGateway}]',
      ],
    ],
  );
});
