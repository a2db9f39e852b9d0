import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectGoldenYaml } from '../../testkit/golden-yaml.ts';
import { readPolicyFixture } from '../../testkit/policy-fixtures.ts';
import type { Rule } from './rules-common.ts';
import { buildLegacyToRules, matchesKey } from './rules-outbound-legacy.ts';
import { matchedPolicies } from './select.ts';

const dir = join(import.meta.dirname, 'testdata', 'outbound-legacy');
const cases = readdirSync(dir).filter((f) => f.endsWith('.input.yaml')).map((f) => f.replace('.input.yaml', ''));
const show = (r: Rule) => ({ conf: r.conf, origin: r.origin.map((o) => `${o.name}#${o.ruleIndex}`) });

describe('buildLegacyToRules (Kuma matchers torules testdata)', () => {
  it.each(cases)('%s', (name) => {
    const fx = readPolicyFixture(join(dir, `${name}.input.yaml`));
    const type = fx.policies[0]!.type;
    const dp = fx.dataplanes[0];
    const policies = dp ? matchedPolicies(type, dp, fx.policies, fx.ctx).policies : fx.policies.filter((p) => p.type === type);
    const rules = buildLegacyToRules(policies, { route: fx.ctx.route });
    const routes = fx.policies.filter((p) => p.type === 'MeshHTTPRoute' && policies.some((q) => q.spec.targetRef?.kind === 'MeshHTTPRoute' && q.spec.targetRef.name === p.name));
    const services = new Set(['other-service']);
    for (const p of [...policies, ...routes]) for (const t of p.spec.to ?? []) if (t.targetRef.kind === 'MeshService' && t.targetRef.name) services.add(t.targetRef.name);
    expectGoldenYaml(join(dir, `${name}.golden.yaml`), {
      services: Object.fromEntries([...services].sort().map((s) => [s, show(rules.rulesFor(s))])),
      routes: routes.flatMap((r) =>
        (r.spec.to ?? []).flatMap((t) =>
          ((t['rules'] ?? []) as { matches?: unknown }[]).map((rule) => ({ service: t.targetRef.name, matches: rule.matches, ...show(rules.routeRulesFor(t.targetRef.name!, rule.matches)) })),
        ),
      ),
      warnings: rules.warnings,
    });
  });

  it('matchesKey ignores object key order but not list order', () => {
    expect(matchesKey([{ path: { type: 'Exact', value: '/' } }])).toBe(matchesKey([{ path: { value: '/', type: 'Exact' } }]));
    expect(matchesKey([{ method: 'GET' }, { method: 'POST' }])).not.toBe(matchesKey([{ method: 'POST' }, { method: 'GET' }]));
  });

  it('reports a top-level MeshHTTPRoute that cannot be resolved', () => {
    const r = buildLegacyToRules([{ type: 'MeshTimeout', name: 'x', mesh: 'm', spec: { targetRef: { kind: 'MeshHTTPRoute', name: 'nope' }, to: [{ targetRef: { kind: 'Mesh' }, default: { a: 1 } }] } }]);
    expect(r.warnings).toEqual(["policy MeshTimeout/x: can't resolve MeshHTTPRoute policy"]);
    expect(r.rulesFor('s')).toEqual({ conf: [], origin: [] });
  });
});
