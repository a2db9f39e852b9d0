import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshProxyPatchType } from './descriptor.ts';

const mods = (list: string) => `targetRef: {kind: MeshService, name: backend}\ndefault: {appendModifications: ${list}}`;
const m = 'spec.default.appendModifications';

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
        'two kinds in one entry, unknown operation, Add without value, bad JSON patch',
        mods('[{cluster: {operation: Add}, listener: {operation: Add}}, {httpFilter: {operation: Insert}}, {cluster: {operation: Add}}, {virtualHost: {operation: Patch, jsonPatches: [{op: merge, path: name}]}}]'),
        `violations:
  - {field: "${m}[0]", message: "must have exactly one defined: cluster, listener, networkFilter, httpFilter, virtualHost"}
  - {field: "${m}[1].httpFilter.operation", message: "must be one of: AddFirst, AddLast, AddBefore, AddAfter, Remove, Patch"}
  - {field: "${m}[2].cluster.value", message: must be defined}
  - {field: "${m}[3].virtualHost.jsonPatches[0].op", message: "must be one of: add, remove, replace, move, copy, test"}
  - {field: "${m}[3].virtualHost.jsonPatches[0].path", message: must be a JSON pointer (start with /)}`,
      ],
      [
        'MeshGateway listener tags are not allowed',
        'targetRef: {kind: MeshGateway, name: edge, tags: {port: "80"}}\ndefault: {appendModifications: [{listener: {operation: Remove}}]}',
        'violations: [{field: spec.targetRef.tags, message: must not be set with kind MeshGateway}]',
      ],
    ],
  );
});
