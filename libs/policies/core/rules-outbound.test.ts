import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectGoldenYaml } from '../../testkit/golden-yaml.ts';
import { readPolicyFixture } from '../../testkit/policy-fixtures.ts';
import type { PolicyItem, ToItem } from './matchable.ts';
import type { Rule } from './rules-common.ts';
import { buildOutboundRules, type OutboundRuleOptions } from './rules-outbound.ts';

const dir = join(import.meta.dirname, 'testdata', 'outbound');
const cases = readdirSync(dir).filter((f) => f.endsWith('.input.yaml')).map((f) => f.replace('.input.yaml', ''));

// What the MeshHTTPRoute descriptor will pass (Kuma's policyMerge tags on its To.GetDefault()).
const OPTIONS: Record<string, OutboundRuleOptions> = {
  MeshHTTPRoute: {
    defaultOf: (i: ToItem) => ({ ...(i['hostnames'] !== undefined ? { hostnames: i['hostnames'] } : {}), rules: i['rules'] }),
    mergeValues: 'hostnames',
    mergeValuesByKey: [{ field: 'rules', key: 'matches' }],
  },
};
const show = (r: Rule) => ({ conf: r.conf, origin: r.origin.map((o) => `${o.name}#${o.ruleIndex}`) });

describe('buildOutboundRules (Kuma rules/outbound resourcerules testdata)', () => {
  it.each(cases)('%s', (name) => {
    const fx = readPolicyFixture(join(dir, `${name}.input.yaml`));
    const type = fx.policies[0]!.type;
    const rules = buildOutboundRules(
      fx.policies.filter((p) => p.type === type),
      OPTIONS[type] ?? {},
    );
    expectGoldenYaml(join(dir, `${name}.golden.yaml`), {
      mesh: show(rules.mesh),
      destinations: Object.fromEntries(rules.destinations.map((d) => [d.section ? `${d.service}/${d.section}` : d.service, show(rules.rulesFor(d.service, d.section))])),
      routes: Object.fromEntries(rules.routes.map((r) => [r, show(rules.routeRulesFor(r)!)])),
      topLevelRoutes: Object.fromEntries([...rules.byTopLevelRoute].map(([k, v]) => [k, show(v)])),
      warnings: rules.warnings,
    });
  });
});

// Port of Kuma's resourcerules_test.go "Compute": exact ?? section-less ?? Mesh.
describe('rulesFor (Kuma ResourceRules.Compute)', () => {
  const mt = (name: string, to: ToItem[]): PolicyItem => ({ type: 'MeshTimeout', name, mesh: 'mesh-1', spec: { to } });
  const rules = buildOutboundRules([
    mt('p', [
      { targetRef: { kind: 'MeshService', name: 'backend' }, default: { c: 'conf-1' } },
      { targetRef: { kind: 'MeshService', name: 'backend', sectionName: 'http-port' }, default: { c: 'conf-2' } },
      { targetRef: { kind: 'Mesh' }, default: { m: 'conf-mesh' } },
    ]),
  ]);

  it('returns the rule for the given resource (merged over Mesh entries)', () => {
    expect(rules.rulesFor('backend').conf).toEqual([{ m: 'conf-mesh', c: 'conf-1' }]);
  });
  it('returns the Mesh rule if the MeshService is not found', () => {
    expect(rules.rulesFor('frontend')).toBe(rules.mesh);
    expect(rules.rulesFor('frontend', 'http-port')).toBe(rules.mesh);
  });
  it('returns the MeshService with section', () => {
    expect(rules.rulesFor('backend', 'http-port').conf).toEqual([{ m: 'conf-mesh', c: 'conf-2' }]);
  });
  it('returns the MeshService rule if the section is not found', () => {
    expect(rules.rulesFor('backend', 'tcp-port')).toBe(rules.rulesFor('backend'));
  });
  it('returns an empty rule when nothing applies', () => {
    expect(buildOutboundRules([]).rulesFor('backend')).toEqual({ conf: [], origin: [] });
  });
  it('routeRulesFor is undefined for a route no entry targets', () => {
    expect(rules.routeRulesFor('route-x')).toBeUndefined();
  });
});

describe('buildOutboundRules ordering', () => {
  it('orders entries by policy first (Mesh-targeted policy before Dataplane-targeted), then name descending', () => {
    const a: PolicyItem = { type: 'MeshTimeout', name: 'a', mesh: 'm', spec: { targetRef: { kind: 'Dataplane', labels: { app: 'x' } }, to: [{ targetRef: { kind: 'Mesh' }, default: { t: 'a' } }] } };
    const b: PolicyItem = { type: 'MeshTimeout', name: 'b', mesh: 'm', spec: { to: [{ targetRef: { kind: 'MeshService', name: 's' }, default: { t: 'b' } }] } };
    const c: PolicyItem = { type: 'MeshTimeout', name: 'c', mesh: 'm', spec: { to: [{ targetRef: { kind: 'Mesh' }, default: { t: 'c' } }] } };
    const r = buildOutboundRules([a, b, c]);
    // b and c share top-level kind Mesh: c's Mesh entry precedes b's MeshService entry (to-kind), then a (Dataplane).
    expect(r.rulesFor('s').origin.map((o) => o.name)).toEqual(['c', 'b', 'a']);
    expect(r.rulesFor('s').conf).toEqual([{ t: 'a' }]);
    expect(r.mesh.origin.map((o) => o.name)).toEqual(['c', 'a']);
  });
});
