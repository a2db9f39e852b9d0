import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MatchableDataplane, MatchableMeshGateway, PolicyItem } from './matchable.ts';
import type { SelectionContext } from './select.ts';
import { DataplaneSelectionIndex, selectedDataplanes } from './selection-index.ts';
import type { TargetRef } from './target-ref.ts';

const services = ['web', 'backend', 'db'];
const values = ['v1', 'v2'];
const zones = ['zone-1', 'zone-2'];
const namespaces = ['ns-a', 'ns-b'];

const tagsArb = fc.record(
  { 'kuma.io/service': fc.constantFrom(...services), version: fc.constantFrom(...values), team: fc.constantFrom('a', 'b') },
  { requiredKeys: ['kuma.io/service'] },
);
const labelsArb = fc.record(
  {
    app: fc.constantFrom(...services),
    version: fc.constantFrom(...values),
    'kuma.io/origin': fc.constantFrom('zone', 'global'),
    'kuma.io/zone': fc.constantFrom(...zones),
    'k8s.kuma.io/namespace': fc.constantFrom(...namespaces),
    'kuma.io/display-name': fc.constantFrom('dp-a', 'dp-b'),
  },
  { requiredKeys: [] },
);
const dataplaneArb = (name: string): fc.Arbitrary<MatchableDataplane> =>
  fc
    .record({
      labels: labelsArb,
      inbounds: fc.array(fc.record({ port: fc.integer({ min: 1, max: 4 }), name: fc.constantFrom('http', 'grpc'), tags: tagsArb, state: fc.constantFrom(undefined, 'Ignored') }), { maxLength: 3 }),
      gateway: fc.option(fc.record({ type: fc.constantFrom('BUILTIN' as const, 'DELEGATED' as const), tags: tagsArb }), { nil: undefined }),
      mesh: fc.constantFrom('m', 'm', 'm', 'other'),
    })
    .map(({ labels, inbounds, gateway, mesh }) => ({
      mesh,
      name,
      labels,
      address: '10.0.0.1',
      proxyType: gateway ? ('Gateway' as const) : ('Sidecar' as const),
      inbounds: gateway ? [] : inbounds.map((i) => (i.state ? i : { port: i.port, name: i.name, tags: i.tags })),
      ...(gateway ? { gateway } : {}),
    }));

const refArb: fc.Arbitrary<TargetRef> = fc.oneof(
  fc.record({ kind: fc.constant('Mesh' as const), proxyTypes: fc.constantFrom(undefined, ['Sidecar' as const], ['Gateway' as const]) }).map((r) => (r.proxyTypes ? r : { kind: r.kind })),
  fc.record({ kind: fc.constant('MeshSubset' as const), tags: fc.dictionary(fc.constantFrom('version', 'team', 'kuma.io/service'), fc.constantFrom('v1', 'v2', 'a', 'web', '*'), { maxKeys: 2 }) }),
  fc.record({ kind: fc.constant('MeshService' as const), name: fc.constantFrom(...services, 'nope') }),
  fc.record({ kind: fc.constant('MeshServiceSubset' as const), name: fc.constantFrom(...services), tags: fc.dictionary(fc.constantFrom('version', 'team'), fc.constantFrom(...values, 'a'), { maxKeys: 1 }) }),
  fc.record(
    { kind: fc.constant('Dataplane' as const), name: fc.constantFrom('dp-a', 'dp-b', 'd0'), namespace: fc.constantFrom(...namespaces), labels: fc.dictionary(fc.constantFrom('app', 'version'), fc.constantFrom(...services, ...values), { maxKeys: 2 }), sectionName: fc.constantFrom('http', '2') },
    { requiredKeys: ['kind'] },
  ),
  fc.record({ kind: fc.constant('MeshGateway' as const), name: fc.constantFrom('edge', 'other'), tags: fc.constantFrom(undefined, { port: 'http' }) }).map((r) => (r.tags ? r : { kind: r.kind, name: r.name })),
  fc.record({ kind: fc.constant('MeshHTTPRoute' as const), name: fc.constantFrom('route-1', 'route-2', 'missing') }),
);
const policyArb = (name: string): fc.Arbitrary<PolicyItem> =>
  fc
    .record({
      targetRef: fc.option(refArb, { nil: undefined }),
      labels: fc.record(
        { 'kuma.io/origin': fc.constantFrom('zone', 'global'), 'kuma.io/zone': fc.constantFrom(...zones), 'kuma.io/policy-role': fc.constantFrom('producer', 'consumer', 'workload-owner', 'system'), 'k8s.kuma.io/namespace': fc.constantFrom(...namespaces) },
        { requiredKeys: [] },
      ),
    })
    .map(({ targetRef, labels }) => ({ type: 'MeshTimeout', name, mesh: 'm', labels, spec: targetRef ? { targetRef } : {} }));

const gateway: MatchableMeshGateway = { name: 'edge', tags: { zone: 'east' }, listeners: [{ port: 8080, tags: { port: 'http' } }, { port: 8443, tags: { port: 'https', version: 'v1' } }] };

const worldArb = fc.record({
  dataplanes: fc.array(fc.nat(), { maxLength: 25 }).chain((ns) => fc.tuple(...ns.map((_, i) => dataplaneArb(`d${i}`)))),
  policies: fc.tuple(policyArb('p0'), policyArb('p1'), policyArb('p2'), policyArb('p3')),
  routes: fc.tuple(refArb, refArb),
});

describe('DataplaneSelectionIndex', () => {
  it('answers exactly what brute-force selection answers, also after updates and removals', () => {
    fc.assert(
      fc.property(worldArb, fc.array(fc.nat(), { maxLength: 5 }), ({ dataplanes, policies, routes }, removals) => {
        const routeItems: PolicyItem[] = routes.map((r, i) => ({ type: 'MeshHTTPRoute', name: `route-${i + 1}`, mesh: 'm', spec: { targetRef: r } }));
        const ctx: SelectionContext = { route: (mesh, name) => routeItems.find((r) => r.mesh === mesh && r.name === name), gatewayOf: () => gateway };
        const index = new DataplaneSelectionIndex(ctx);
        // insert twice (the second time reversed) to exercise replacement
        for (const dp of dataplanes) index.upsert({ ...dp, labels: {} });
        for (const dp of [...dataplanes].reverse()) index.upsert(dp);
        let live = [...dataplanes];
        const check = () => {
          expect(index.size).toBe(live.length);
          for (const p of [...policies, ...routeItems]) expect(index.selectedBy(p)).toEqual(selectedDataplanes(p, live, ctx));
          const [a, b] = policies;
          expect(index.affectedBy(a, b)).toEqual([...new Set([...selectedDataplanes(a, live, ctx), ...selectedDataplanes(b, live, ctx)])].sort());
        };
        check();
        for (const r of removals) {
          if (live.length === 0) break;
          const victim = live[r % live.length]!;
          index.remove(victim.name);
          live = live.filter((d) => d !== victim);
        }
        check();
      }),
      { numRuns: 300 },
    );
  });

  it('checks only the posting list for tag and name selection, not every dataplane', () => {
    const index = new DataplaneSelectionIndex();
    for (let i = 0; i < 10_000; i++) {
      index.upsert({
        mesh: 'm',
        name: `dp-${i}`,
        labels: { app: `svc-${i % 1000}` },
        proxyType: 'Sidecar',
        inbounds: [{ port: 80, tags: { 'kuma.io/service': `svc-${i % 1000}`, version: `v${i % 2}` } }],
      });
    }
    const p = (targetRef: TargetRef): PolicyItem => ({ type: 'MeshTimeout', name: 'p', mesh: 'm', spec: { targetRef } });
    expect(index.candidateCount(p({ kind: 'MeshService', name: 'svc-7' }))).toBe(10);
    expect(index.selectedBy(p({ kind: 'MeshServiceSubset', name: 'svc-7', tags: { version: 'v1' } })).length).toBe(10);
    expect(index.candidateCount(p({ kind: 'Dataplane', labels: { app: 'svc-3' } }))).toBe(10);
    expect(index.candidateCount(p({ kind: 'Dataplane', name: 'dp-42' }))).toBe(1);
    expect(index.candidateCount(p({ kind: 'MeshSubset', tags: { version: 'v1', 'kuma.io/service': 'svc-1' } }))).toBe(10);
    expect(index.candidateCount(p({ kind: 'Mesh' }))).toBe(10_000);
    expect(index.affectedBy(p({ kind: 'MeshService', name: 'svc-1' }), p({ kind: 'MeshService', name: 'svc-2' }))).toHaveLength(20);
  });
});
