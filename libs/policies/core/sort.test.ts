import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PolicyItem } from './matchable.ts';
import { compareByPolicyAttributes, sortPolicies, sortToEntries } from './sort.ts';
import { TARGET_REF_KINDS, type TargetRef } from './target-ref.ts';

const p = (name: string, targetRef?: TargetRef, labels: Record<string, string> = {}): PolicyItem => ({ type: 'MeshTimeout', name, mesh: 'm', labels, spec: targetRef ? { targetRef } : {} });
const names = (ps: PolicyItem[]) => ps.map((x) => x.name);

describe('sortPolicies (Kuma SortByTargetRef)', () => {
  it('orders by kind, then origin global < unknown < zone, then role, then name descending', () => {
    const sorted = sortPolicies([
      p('a-zone', { kind: 'Mesh' }, { 'kuma.io/origin': 'zone' }),
      p('b-global', { kind: 'Mesh' }, { 'kuma.io/origin': 'global' }),
      p('c-none', { kind: 'Mesh' }),
      p('d-consumer', { kind: 'Mesh' }, { 'kuma.io/origin': 'zone', 'kuma.io/policy-role': 'consumer' }),
      p('e-producer', { kind: 'Mesh' }, { 'kuma.io/origin': 'zone', 'kuma.io/policy-role': 'producer' }),
      p('f-owner', { kind: 'Mesh' }, { 'kuma.io/origin': 'zone', 'kuma.io/policy-role': 'workload-owner' }),
      p('a-subset', { kind: 'MeshSubset', tags: { a: 'b' } }),
      p('z-dp', { kind: 'Dataplane' }),
    ]);
    expect(names(sorted)).toEqual(['b-global', 'c-none', 'a-zone', 'e-producer', 'd-consumer', 'f-owner', 'z-dp', 'a-subset']);
  });

  it('MeshGateway with fewer listener tags first; Dataplane labels before name, no sectionName before sectionName', () => {
    expect(names(sortPolicies([p('a', { kind: 'MeshGateway', name: 'g', tags: { x: '1' } }), p('b', { kind: 'MeshGateway', name: 'g' })]))).toEqual(['b', 'a']);
    expect(
      names(
        sortPolicies([
          p('a-name-section', { kind: 'Dataplane', name: 'dp', sectionName: 'http' }),
          p('b-name', { kind: 'Dataplane', name: 'dp' }),
          p('c-labels-section', { kind: 'Dataplane', labels: { app: 'x' }, sectionName: 'http' }),
          p('d-labels', { kind: 'Dataplane', labels: { app: 'x' } }),
        ]),
      ),
    ).toEqual(['d-labels', 'c-labels-section', 'b-name', 'a-name-section']);
  });

  it('to[] entries: policy attributes, then to-kind and MeshService sectionName, then name descending', () => {
    const a = p('a', { kind: 'Mesh' });
    const b = p('b', { kind: 'Mesh' });
    const e = (policy: PolicyItem, targetRef: TargetRef, index = 0) => ({ policy, entry: { targetRef }, index });
    const sorted = sortToEntries([e(a, { kind: 'MeshService', name: 's', sectionName: 'p' }), e(a, { kind: 'MeshService', name: 's' }, 1), e(b, { kind: 'Mesh' }), e(a, { kind: 'Mesh' }, 2)]);
    expect(sorted.map((x) => `${x.policy.name}#${x.index}`)).toEqual(['b#0', 'a#2', 'a#1', 'a#0']);
  });

  const refArb: fc.Arbitrary<TargetRef> = fc.record(
    { kind: fc.constantFrom(...TARGET_REF_KINDS), name: fc.constantFrom('x', 'y'), sectionName: fc.constantFrom('s'), tags: fc.constantFrom<Record<string, string>>({ a: '1' }, { a: '1', b: '2' }) },
    { requiredKeys: ['kind'] },
  );
  const labelsArb = fc.record({ 'kuma.io/origin': fc.constantFrom('zone', 'global', 'other'), 'kuma.io/policy-role': fc.constantFrom('system', 'producer', 'consumer', 'workload-owner') }, { requiredKeys: [] });
  const policiesArb = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 12 }).chain((ns) => fc.tuple(...ns.map((n) => fc.tuple(fc.option(refArb, { nil: undefined }), labelsArb).map(([r, l]) => p(n, r, l)))));

  it('is a deterministic total order for unique names: any input order gives the same result', () => {
    fc.assert(
      fc.property(policiesArb, fc.integer(), (ps, seed) => {
        const shuffled = [...ps].sort((x, y) => ((x.name.charCodeAt(0) * 31 + seed) % 7) - ((y.name.charCodeAt(0) * 31 + seed) % 7));
        expect(names(sortPolicies(shuffled))).toEqual(names(sortPolicies(ps)));
        const s = sortPolicies(ps);
        for (let i = 1; i < s.length; i++) expect(compareByPolicyAttributes(s[i - 1]!, s[i]!)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });
});
