import { describe } from 'vitest';
import { describeCases } from '../../testkit/policy-cases.ts';
import { MeshLoadBalancingStrategyType } from './descriptor.ts';

const to = (conf: string, target = '{kind: MeshService, name: backend}', top = '{kind: Mesh}') => `targetRef: ${top}\nto: [{targetRef: ${target}, default: ${conf}}]`;
const d = 'spec.to[0].default';

// Cases after pkg/plugins/policies/meshloadbalancingstrategy/api/v1alpha1/validator_test.go.
describe('MeshLoadBalancingStrategy validation', () => {
  describeCases(
    MeshLoadBalancingStrategyType,
    [
      [
        'full example',
        to(`{localityAwareness: {disabled: false, localZone: {affinityTags: [{key: k8s.io/node, weight: 9000}, {key: k8s.io/az, weight: 9}]}},
            loadBalancer: {type: RingHash, ringHash: {hashFunction: MurmurHash2, minRingSize: 64, maxRingSize: 1024,
              hashPolicies: [{type: Header, header: {name: x-user}}, {type: Cookie, cookie: {name: session, ttl: 1h, path: /}}, {type: Connection, connection: {sourceIP: true}}]}}}`),
      ],
      ['least request with bias', to('{loadBalancer: {type: LeastRequest, leastRequest: {choiceCount: 3, activeRequestBias: "1.5"}}}')],
      ['maglev', to('{loadBalancer: {type: Maglev, maglev: {tableSize: 65537}}}')],
      [
        'cross zone failover to MeshMultiZoneService',
        to(
          '{localityAwareness: {crossZone: {failover: [{from: {zones: [zone-1]}, to: {type: Only, zones: [zone-2]}}, {to: {type: Any}}], failoverThreshold: {percentage: "70.5"}}}}',
          '{kind: MeshMultiZoneService, name: backend}',
        ),
      ],
      ['MeshHTTPRoute with hash policies only', to('{hashPolicies: [{type: QueryParameter, queryParameter: {name: user}}]}', '{kind: MeshHTTPRoute, name: route}')],
    ],
    [
      [
        'affinity tags: weight zero, missing key, mixed weights',
        to('{localityAwareness: {localZone: {affinityTags: [{key: a, weight: 0}, {key: ""}]}}}'),
        `violations:
  - {field: "${d}.localityAwareness.localZone.affinityTags[0].weight", message: must be greater than 0}
  - {field: "${d}.localityAwareness.localZone.affinityTags[1].key", message: must not be empty}
  - {field: "${d}.localityAwareness.localZone.affinityTags", message: all or none affinity tags should have weight}`,
      ],
      [
        'crossZone without a MeshMultiZoneService',
        to('{localityAwareness: {crossZone: {failover: [{to: {type: Any}}]}}}'),
        `violations: [{field: "${d}.localityAwareness.crossZone", message: crossZone is only supported when targetRef.kind is MeshMultiZoneService}]`,
      ],
      [
        'failover zones and threshold',
        to(
          '{localityAwareness: {crossZone: {failover: [{from: {zones: []}, to: {type: Only}}, {to: {type: Any, zones: [a]}}, {to: {type: Some}}], failoverThreshold: {percentage: 0}}}}',
          '{kind: MeshMultiZoneService, name: backend}',
        ),
        `violations:
  - {field: "${d}.localityAwareness.crossZone.failover[0].from.zones", message: must not be empty}
  - {field: "${d}.localityAwareness.crossZone.failover[0].to.zones", message: must not be empty when type is Only}
  - {field: "${d}.localityAwareness.crossZone.failover[1].to.zones", message: must be empty when type is Any}
  - {field: "${d}.localityAwareness.crossZone.failover[2].to.type", message: unrecognized type}
  - {field: "${d}.localityAwareness.crossZone.failoverThreshold.percentage", message: must be greater than 0}`,
      ],
      [
        'hash policies',
        to('{hashPolicies: [{type: Header}, {type: Cookie, cookie: {name: a, path: relative}}, {type: Magic}]}'),
        `violations:
  - {field: "${d}.hashPolicies[0].header", message: must be defined}
  - {field: "${d}.hashPolicies[1].cookie.path", message: must be an absolute path}
  - {field: "${d}.hashPolicies[2].type", message: unrecognized type}`,
      ],
      [
        'MeshHTTPRoute with a load balancer',
        to('{loadBalancer: {type: RoundRobin}, localityAwareness: {disabled: true}}', '{kind: MeshHTTPRoute, name: route}'),
        `violations:
  - {field: "${d}.loadBalancer", message: "field is not allowed when targetRef.kind is MeshHTTPRoute, only hashPolicies is supported"}
  - {field: "${d}.localityAwareness", message: "field is not allowed when targetRef.kind is MeshHTTPRoute, only hashPolicies is supported"}`,
      ],
      [
        'activeRequestBias below 0 and unknown load balancer type',
        'targetRef: {kind: Mesh}\nto: [{targetRef: {kind: Mesh}, default: {loadBalancer: {type: LeastRequest, leastRequest: {activeRequestBias: -1}}}}, {targetRef: {kind: Mesh}, default: {loadBalancer: {type: Fastest}}}]',
        `violations:
  - {field: "spec.to[0].default.loadBalancer.leastRequest.activeRequestBias", message: "must be greater or equal then: 0"}
  - {field: "spec.to[1].default.loadBalancer.type", message: "must be one of: RoundRobin, LeastRequest, RingHash, Random, Maglev"}`,
      ],
      [
        'MeshExternalService only with a top-level Mesh; gateway with a load balancer only to Mesh',
        'targetRef: {kind: MeshGateway, name: edge}\nto: [{targetRef: {kind: MeshExternalService, name: ext}, default: {}}, {targetRef: {kind: MeshService, name: backend}, default: {loadBalancer: {type: Random}}}]',
        `violations:
  - {field: "spec.to[0].targetRef.kind", message: value is not supported}
  - {field: "spec.to[1].targetRef.kind", message: value is not supported}`,
      ],
    ],
  );
});
