import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectGoldenYaml } from '../../testkit/golden-yaml.ts';
import { readPolicyFixture } from '../../testkit/policy-fixtures.ts';
import type { RuleMatch } from './matchable.ts';
import { buildInboundRules, buildInboundRulesByListener, compareMatch } from './rules-inbound.ts';
import { matchedPolicies } from './select.ts';

const dir = join(import.meta.dirname, 'testdata', 'inbound');
const cases = readdirSync(dir).filter((f) => f.endsWith('.input.yaml')).map((f) => f.replace('.input.yaml', ''));
// Kuma's IsFromAsRules per type (KUMA-REFERENCE §1): MeshTrafficPermission and MeshFaultInjection keep `from`.
const IS_FROM_AS_RULES: Record<string, boolean> = { MeshTimeout: true, MeshTrafficPermission: false };
const o = (x: { name: string; ruleIndex: number }) => `${x.name}#${x.ruleIndex}`;

describe('buildInboundRules (Kuma rules/inbound testdata)', () => {
  it.each(cases)('%s', (name) => {
    const fx = readPolicyFixture(join(dir, `${name}.input.yaml`));
    const r = buildInboundRules(fx.policies, { isFromAsRules: IS_FROM_AS_RULES[fx.policies[0]!.type]! });
    expectGoldenYaml(join(dir, `${name}.golden.yaml`), {
      rules: r.rules.map((x) => ({ matches: x.matches, conf: x.conf, origin: o(x.origin) })),
      catchAll: { conf: r.catchAll.conf, origin: r.catchAll.origin.map(o) },
      legacyFrom: r.legacyFrom.map((e) => `${e.policy.name}#${e.index}`),
    });
  });
});

// Port of Kuma's rules/inbound/sort_test.go "SortRules".
describe('compareMatch (Kuma SortRules)', () => {
  const spiffe = (type: 'Exact' | 'Prefix', value: string): RuleMatch => ({ spiffeID: { type, value } });
  const sni = (value: string): RuleMatch => ({ sni: { type: 'Exact', value } });
  const sorted = (rules: [string, RuleMatch | undefined][]) => [...rules].sort((a, b) => compareMatch(a[1], b[1])).map((r) => r[0]);

  it('sorts rules by match specificity', () => {
    expect(
      sorted([
        ['catch-all', undefined],
        ['sni', sni('backend.mesh')],
        ['spiffe-prefix', spiffe('Prefix', 'spiffe://default/ns/backend')],
        ['spiffe-exact', spiffe('Exact', 'spiffe://default/ns/backend/sa/app')],
      ]),
    ).toEqual(['spiffe-exact', 'spiffe-prefix', 'sni', 'catch-all']);
  });

  it('ranks AND-combined matches (SNI + SpiffeID) higher than single-field matches', () => {
    const both = (type: 'Exact' | 'Prefix', v: string): RuleMatch => ({ sni: { type: 'Exact', value: 'backend.mesh' }, spiffeID: { type, value: v } });
    expect(
      sorted([
        ['spiffe-exact', spiffe('Exact', 'spiffe://default/ns/backend/sa/app')],
        ['sni-and-spiffe-exact', both('Exact', 'spiffe://default/ns/backend/sa/app')],
        ['spiffe-prefix', spiffe('Prefix', 'spiffe://default/ns/backend')],
        ['sni-and-spiffe-prefix', both('Prefix', 'spiffe://default/ns/backend')],
        ['sni', sni('backend.mesh')],
        ['catch-all', undefined],
      ]),
    ).toEqual(['sni-and-spiffe-exact', 'spiffe-exact', 'sni-and-spiffe-prefix', 'spiffe-prefix', 'sni', 'catch-all']);
  });

  it('keeps stable order for rules with the same match specificity', () => {
    expect(
      sorted([
        ['first-exact', spiffe('Exact', 'spiffe://default/ns/backend/sa/first')],
        ['second-exact', spiffe('Exact', 'spiffe://default/ns/backend/sa/second')],
        ['first-sni', sni('first.mesh')],
        ['second-sni', sni('second.mesh')],
        ['first-catch-all', undefined],
        ['second-catch-all', undefined],
      ]),
    ).toEqual(['first-exact', 'second-exact', 'first-sni', 'second-sni', 'first-catch-all', 'second-catch-all']);
  });
});

describe('buildInboundRulesByListener', () => {
  it('computes rules per inbound from the policies selecting that inbound only', () => {
    const fx = readPolicyFixture(join(import.meta.dirname, 'testdata', 'matched', 'dataplane-name-section.input.yaml'));
    const byListener = buildInboundRulesByListener(matchedPolicies('MeshTrafficPermission', fx.dataplanes[0]!, fx.policies), { isFromAsRules: false });
    expect(byListener.get('1.1.1.1:8080')!.rules.map((r) => o(r.origin))).toEqual(['mtp-1#0', 'mtp-2#0']);
    expect(byListener.get('1.1.1.1:8081')!.rules.map((r) => o(r.origin))).toEqual(['mtp-1#0']);
  });
});
