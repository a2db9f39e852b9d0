import { describe, expect, it } from 'vitest';
import type { PolicyItem } from './matchable.ts';
import { legacyFromItems, buildLegacyFromRules } from './rules-inbound-legacy.ts';
import { buildSubsetRules, computeSubsetRule, containsElement, covers, intersects, subsetCombinations, subsetOfTags, type Subset, type SubsetItem } from './subset-rules.ts';

// Ports of Kuma's pkg/plugins/policies/core/rules/rules_test.go (kuma/v2) tables.
const t = (key: string, value: string, not = false) => ({ key, value, not });

describe('subset primitives (Kuma rules_test.go)', () => {
  it('SubsetIter order: all negation combinations, all-positive last (via a single-clique build)', () => {
    // Kuma "should return all possible subsets for the given set of tags": each combination becomes a rule when one item
    // covers it; with items for k1, k2, k3 and Mesh every combination is relevant (Mesh covers all).
    const items: SubsetItem[] = [
      { subset: [], conf: { m: 1 }, origin: { type: 'T', mesh: 'm', name: 'mesh', ruleIndex: 0 } },
      { subset: [t('k1', 'v1')], conf: { a: 1 }, origin: { type: 'T', mesh: 'm', name: 'a', ruleIndex: 0 } },
      { subset: [t('k2', 'v2')], conf: { b: 1 }, origin: { type: 'T', mesh: 'm', name: 'b', ruleIndex: 0 } },
      { subset: [t('k3', 'v3')], conf: { c: 1 }, origin: { type: 'T', mesh: 'm', name: 'c', ruleIndex: 0 } },
    ];
    const rules = buildSubsetRules(items, { withNegations: true });
    const fmt = (s: Subset) => s.map((x) => `${x.not ? '!' : ''}${x.key}`).join(',');
    // Kuma's iteration order, then stable sort by positive count (3, 2, 2, 2, 1, 1, 1, 0).
    expect(rules.map((r) => fmt(r.subset))).toEqual(['k1,k2,k3', '!k1,k2,k3', 'k1,!k2,k3', 'k1,k2,!k3', '!k1,!k2,k3', '!k1,k2,!k3', 'k1,!k2,!k3', '!k1,!k2,!k3']);
  });

  it('SubsetIter: all subsets of the given tags (Kuma order)', () => {
    const fmt = (s: Subset) => s.map((x) => `${x.not ? '!' : ''}${x.key}`).join(',');
    expect([...subsetCombinations([t('k1', 'v1'), t('k2', 'v2'), t('k3', 'v3')])].map(fmt)).toEqual([
      '!k1,k2,k3', 'k1,!k2,k3', '!k1,!k2,k3', 'k1,k2,!k3', '!k1,k2,!k3', 'k1,!k2,!k3', '!k1,!k2,!k3', 'k1,k2,k3',
    ]);
    expect([...subsetCombinations([])]).toEqual([[]]);
  });

  it('SubsetIter: tags with equal keys are simplified, contradictions dropped', () => {
    expect([...subsetCombinations([t('zone', 'us-east'), t('env', 'dev'), t('env', 'prod')])]).toEqual([
      [t('zone', 'us-east', true), t('env', 'prod')],
      [t('zone', 'us-east'), t('env', 'dev')],
      [t('zone', 'us-east', true), t('env', 'dev')],
      [t('zone', 'us-east'), t('env', 'dev', true), t('env', 'prod', true)],
      [t('zone', 'us-east', true), t('env', 'dev', true), t('env', 'prod', true)],
      [t('zone', 'us-east'), t('env', 'prod')],
    ]);
  });

  it.each([
    ['entry 1', [t('service', 'backend')], [t('service', 'frontend', true), t('version', 'v2')], false],
    ['entry 2', [t('service', 'backend')], [t('service', 'backend'), t('version', 'v2')], true],
    ['entry 3', [t('service', 'backend', true)], [t('service', 'backend', true), t('version', 'v2')], true],
    ['entry 4', [t('service', 'backend', true), t('version', 'v1', true)], [t('service', 'backend', true), t('version', 'v1', true), t('zone', 'east')], true],
    ['entry 5', [], [t('service', 'backend', true), t('version', 'v1', true), t('zone', 'east')], true],
    ['entry 6', [t('service', 'backend'), t('version', 'v1')], [], false],
    ['entry 7', [t('key1', 'val1', true)], [t('key1', 'val2')], true],
    ['entry 8', [t('key1', 'val1', true)], [t('key1', 'val2'), t('key2', 'val3')], true],
  ] as const)('IsSubset %s', (_n, s1, s2, want) => {
    expect(covers(s1, s2)).toBe(want);
  });

  it.each([
    ['positive, same key and value', [t('service', 'frontend')], [t('service', 'frontend')], true],
    ['positive, same key, different value', [t('service', 'frontend')], [t('service', 'backend')], false],
    ['positive, overlap key-value', [t('service', 'frontend'), t('version', 'v1')], [t('service', 'frontend')], true],
    ['positive, overlap key but different value', [t('service', 'frontend')], [t('service', 'backend'), t('version', 'v1')], false],
    ['positive, different key', [t('service', 'frontend')], [t('version', 'v1')], true],
    ['positive, superset', [], [t('service', 'backend'), t('version', 'v1'), t('zone', 'east')], true],
    ['a part of negation, same key and value', [t('service', 'frontend', true)], [t('service', 'frontend')], true],
    ['a part of negation, same key, different value', [t('service', 'frontend', true)], [t('service', 'backend')], true],
    ['a part of negation, overlap key-value', [t('service', 'frontend', true), t('version', 'v1')], [t('service', 'frontend')], true],
    ['a part of negation, overlap key different value', [t('service', 'frontend', true), t('version', 'v1')], [t('service', 'backend')], true],
    ['a part of negation, different key', [t('service', 'frontend', true)], [t('version', 'v1')], true],
    ['negation, same key and value', [t('service', 'backend', true)], [t('service', 'backend', true)], true],
    ['negation, same key, different value', [t('service', 'frontend', true)], [t('service', 'backend', true)], true],
    ['negation, overlap key-value', [t('service', 'backend', true), t('version', 'v1', true)], [t('service', 'backend', true), t('version', 'v1', true), t('zone', 'east')], true],
    ['negation, overlap key different value', [t('service', 'frontend', true), t('version', 'v1', true)], [t('service', 'backend', true), t('version', 'v1', true), t('zone', 'east')], true],
    ['negation, different key', [t('service', 'frontend', true)], [t('version', 'v1', true), t('zone', 'east')], true],
    ['negation, superset', [t('service', 'backend', true), t('version', 'v1', true)], [], true],
  ] as const)('Intersect %s', (_n, s1, s2, want) => {
    expect(intersects(s1, s2)).toBe(want);
  });

  it.each([
    ['single rule, elements', [t('key1', 'val1')], { key1: 'val1', key2: 'val2' }, true],
    ['single rule, element', [t('key1', 'val1')], { key1: 'val1' }, true],
    ['negation, element has key with another value', [t('key1', 'val1', true)], { key1: 'val2' }, true],
    ['empty set', [], { key1: 'val2' }, true],
    ['empty element', [t('key1', 'val1')], {}, false],
    ['negation, element has same key value', [t('key1', 'val1', true)], { key1: 'val1' }, false],
    ['negation, element has another key', [t('key1', 'val1', true)], { key2: 'val2' }, true],
    ['element key not in subset', [t('key1', 'val1')], { key2: 'val2' }, false],
    ['positive, element key with another value', [t('key1', 'val1')], { key1: 'val2' }, false],
    ['positive, only one overlapped key', [t('key1', 'val1'), t('key2', 'val2')], { key1: 'val1' }, false],
    ['part negation', [t('key1', 'val1'), t('key2', 'val2', true)], { key1: 'val1' }, true],
    ['part negation, element other value', [t('key1', 'val1', true), t('key2', 'val2')], { key1: 'val2' }, false],
    ['negations, same key value', [t('key1', 'val1', true), t('key2', 'val2', true)], { key1: 'val1' }, false],
    ['part negation, another key', [t('key1', 'val1'), t('key2', 'val2', true)], { key3: 'val3' }, false],
    ['positive, another key', [t('key1', 'val1'), t('key2', 'val2')], { key3: 'val3' }, false],
    ['negations, another key', [t('key1', 'val1', true), t('key2', 'val2', true)], { key3: 'val3' }, true],
    ['n dims positive, other keys', [t('key1', 'val1'), t('key2', 'val2'), t('key3', 'val3')], { key4: 'val4', key5: 'val5' }, false],
    ['n dims positive, overlapped key', [t('key1', 'val1'), t('key2', 'val2'), t('key3', 'val3')], { key3: 'val3', key4: 'val4' }, false],
    ['n dims part negation, overlapped key', [t('key1', 'val1', true), t('key2', 'val2', true), t('key3', 'val3')], { key3: 'val3', key4: 'val4' }, true],
  ] as const)('ContainsElement %s', (_n, ss, el, want) => {
    expect(containsElement(ss, el)).toBe(want);
  });

  it('Compute takes the first matching rule (Kuma Eval "the first matched conf is taken")', () => {
    const o = { type: 'T', mesh: 'm', name: 'x', ruleIndex: 0 };
    const rules = [
      { subset: [t('key1', 'val1')], conf: [{ action: 'Allow' }], origin: [o] },
      { subset: [t('key2', 'val2')], conf: [{ action: 'Deny' }], origin: [o] },
      { subset: [], conf: [{ action: 'AllowWithShadowDeny' }], origin: [o] },
    ];
    expect(computeSubsetRule(rules, { key2: 'val2', key3: 'val3' })?.conf).toEqual([{ action: 'Deny' }]);
    expect(computeSubsetRule([{ subset: [t('key1', 'val1', true)], conf: [{}], origin: [o] }], {})).toBeUndefined();
  });
});

const mtp = (name: string, targetRef: PolicyItem['spec']['targetRef'], from: { tags?: Record<string, string>; kind?: 'Mesh'; action: string }[]): PolicyItem => ({
  type: 'MeshTrafficPermission',
  name,
  mesh: 'default',
  spec: {
    targetRef,
    from: from.map((f) => ({ targetRef: f.tags ? { kind: 'MeshSubset', tags: f.tags } : { kind: 'Mesh' }, default: { action: f.action } })),
  },
});

describe('legacy from rules (Kuma rules/testdata/rules/from)', () => {
  it('mtp-overrides: "first policy is most specific it doesn\'t take precedence #8484"', () => {
    // Kuma's BuildFromRules test passes the policies in file order (MatchedPolicies would sort them first).
    const top = { kind: 'MeshSubset' as const, tags: { 'k8s.kuma.io/service-name': 'demo-app' } };
    const policies = [
      mtp('default-demo-app', top, [{ kind: 'Mesh', action: 'Deny' }]),
      mtp('default-demo-app-a', top, [
        { tags: { 'app.kubernetes.io/name': 'ui' }, action: 'Allow' },
        { tags: { 'app.kubernetes.io/name': 'service-order' }, action: 'Allow' },
        { tags: { 'app.kubernetes.io/name': 'service-payment' }, action: 'Allow' },
      ]),
    ];
    const rules = buildSubsetRules(legacyFromItems(policies), { withNegations: true });
    const action = (tags: Record<string, string>) => (computeSubsetRule(rules, tags)?.conf[0] as { action?: string } | undefined)?.action;
    // Kuma's golden: Allow for ui / service-payment / service-order (origins default-demo-app, default-demo-app-a),
    // Deny for anything else (subset !ui, !service-order, !service-payment).
    for (const app of ['ui', 'service-order', 'service-payment']) {
      expect(action({ 'app.kubernetes.io/name': app })).toBe('Allow');
      expect(computeSubsetRule(rules, { 'app.kubernetes.io/name': app })!.origin.map((x) => x.name)).toEqual(['default-demo-app', 'default-demo-app-a']);
    }
    expect(action({ 'app.kubernetes.io/name': 'other' })).toBe('Deny');
    expect(action({ 'kuma.io/service': 'x' })).toBe('Deny');
  });

  it('buildLegacyFromRules sorts the policies first (alphabetically first wins)', () => {
    const rules = buildLegacyFromRules([mtp('b', undefined, [{ kind: 'Mesh', action: 'Allow' }]), mtp('a', undefined, [{ kind: 'Mesh', action: 'Deny' }])]);
    expect(computeSubsetRule(rules, { x: 'y' })?.conf).toEqual([{ action: 'Deny' }]);
  });
});

describe('cliques and connected components give the same answers (Kuma "Clique vs Connected Components")', () => {
  it('are NOT equivalent in general: this counterexample (found by fast-check) follows the clique grouping', () => {
    // Items Mesh=Allow, {app:1}=AllowWithShadowDeny, {app:2,version:1}=Allow and the client {app:1, version:1}.
    // Cliques [0,2] (sorted first, "0:2" > "0:1") and [0,1]: the rule {!app:2, version:1} (from [0,2], Mesh only) and
    // {app:1} (from [0,1]) both have one positive tag; the first one wins the stable sort and contains the client, so
    // Kuma's clique grouping answers Allow where the component grouping answers AllowWithShadowDeny. We follow Kuma's
    // default (cliques); the divergence is Kuma's, reproduced here on purpose.
    const items: SubsetItem[] = [
      { subset: [], conf: { action: 'Allow' }, origin: { type: 'T', mesh: 'm', name: 'p0', ruleIndex: 0 } },
      { subset: subsetOfTags({ app: '1' }), conf: { action: 'AllowWithShadowDeny' }, origin: { type: 'T', mesh: 'm', name: 'p1', ruleIndex: 0 } },
      { subset: subsetOfTags({ app: '2', version: '1' }), conf: { action: 'Allow' }, origin: { type: 'T', mesh: 'm', name: 'p2', ruleIndex: 0 } },
    ];
    const client = { app: '1', version: '1' };
    expect(computeSubsetRule(buildSubsetRules(items, { withNegations: true }), client)?.conf).toEqual([{ action: 'Allow' }]);
    expect(computeSubsetRule(buildSubsetRules(items, { withNegations: true, grouping: 'components' }), client)?.conf).toEqual([{ action: 'AllowWithShadowDeny' }]);
  });

  it("Kuma's three hand-written cases", () => {
    const mk = (defs: [Record<string, string>, string][]): SubsetItem[] => defs.map(([tags, action], i) => ({ subset: subsetOfTags(tags), conf: { action }, origin: { type: 'T', mesh: 'm', name: `p${i}`, ruleIndex: 0 } }));
    const cases: [SubsetItem[], Record<string, string>[]][] = [
      [mk([[{}, 'AllowWithShadowDeny'], [{ app: 'app-1' }, 'Allow'], [{ app: 'app-2' }, 'Deny'], [{ app: 'app-3' }, 'Allow']]), [{ app: 'app-1' }, { app: 'app-2' }, { app: 'app-3' }, { app: 'app-4' }, { app: 'app-1', version: 'v1' }]],
      [mk([[{ zone: 'us-east' }, 'Allow'], [{ zone: 'us-east', env: 'prod' }, 'Deny'], [{ env: 'prod' }, 'AllowWithShadowDeny']]), [{ zone: 'us-east', env: 'prod' }, { zone: 'us-east', env: 'dev' }, { zone: 'us-west', env: 'prod' }, { zone: 'us-west', env: 'dev' }]],
      [mk([[{ app: 'app-1', version: 'v1' }, 'Allow'], [{ app: 'app-1' }, 'Deny'], [{ app: 'app-1', version: 'v2' }, 'AllowWithShadowDeny']]), [{ app: 'app-1', version: 'v1' }, { app: 'app-1', version: 'v2' }, { app: 'app-1', version: 'v3' }, { app: 'app-1' }, { app: 'app-2' }]],
    ];
    for (const [items, elements] of cases) {
      const a = buildSubsetRules(items, { withNegations: true });
      const b = buildSubsetRules(items, { withNegations: true, grouping: 'components' });
      for (const e of elements) expect(computeSubsetRule(a, e)?.conf).toEqual(computeSubsetRule(b, e)?.conf);
    }
    // and the expected answers of the first case
    const first = buildSubsetRules(cases[0]![0], { withNegations: true });
    expect(computeSubsetRule(first, { app: 'app-2' })?.conf).toEqual([{ action: 'Deny' }]);
    expect(computeSubsetRule(first, { app: 'app-4' })?.conf).toEqual([{ action: 'AllowWithShadowDeny' }]);
  });
});
