import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectGoldenYaml } from '../../testkit/golden-yaml.ts';
import { readPolicyFixture } from '../../testkit/policy-fixtures.ts';
import type { MatchableDataplane, PolicyItem } from './matchable.ts';
import { dataplaneSelection, matchedPolicies, selects } from './select.ts';

const dir = join(import.meta.dirname, 'testdata', 'matched');
const cases = readdirSync(dir).filter((f) => f.endsWith('.input.yaml')).map((f) => f.replace('.input.yaml', ''));

describe('matchedPolicies (Kuma matchers testdata)', () => {
  it.each(cases)('%s', (name) => {
    const fx = readPolicyFixture(join(dir, `${name}.input.yaml`));
    const dp = fx.dataplanes[0]!;
    const type = fx.policies.find((p) => p.type !== 'MeshHTTPRoute')!.type;
    const m = matchedPolicies(type, dp, fx.policies, fx.ctx);
    expectGoldenYaml(join(dir, `${name}.golden.yaml`), {
      policies: m.policies.map((p) => p.name),
      inbounds: Object.fromEntries([...m.byInbound].map(([k, v]) => [k, v.policies.map((p) => p.name)])),
      warnings: m.warnings,
    });
  });
});

const dp = (over: Partial<MatchableDataplane> = {}): MatchableDataplane => ({
  mesh: 'm',
  name: 'dp-1',
  labels: {},
  proxyType: 'Sidecar',
  address: '10.0.0.1',
  inbounds: [{ port: 80, name: 'http', tags: { 'kuma.io/service': 'web', version: 'v1' } }],
  ...over,
});
const policy = (spec: PolicyItem['spec'], labels: Record<string, string> = {}): PolicyItem => ({ type: 'MeshTimeout', name: 'p', mesh: 'm', labels, spec });

describe('dataplaneSelection', () => {
  it('MeshSubset "*" matches any value of a present tag, not an absent one', () => {
    expect(selects(policy({ targetRef: { kind: 'MeshSubset', tags: { version: '*' } } }), dp())).toBe(true);
    expect(selects(policy({ targetRef: { kind: 'MeshSubset', tags: { team: '*' } } }), dp())).toBe(false);
  });

  it('Dataplane labels are exact (no "*"), and sectionName also matches the port number', () => {
    expect(selects(policy({ targetRef: { kind: 'Dataplane', labels: { app: '*' } } }), dp({ labels: { app: 'web' } }))).toBe(false);
    const s = dataplaneSelection(policy({ targetRef: { kind: 'Dataplane', sectionName: '80' } }), dp());
    expect(s.inbounds).toEqual([{ address: '10.0.0.1', port: 80 }]);
    expect(dataplaneSelection(policy({ targetRef: { kind: 'Dataplane', sectionName: 'grpc' } }), dp()).inbounds).toEqual([]);
  });

  it('a zone policy selects only dataplanes of its zone, unless it is a producer policy', () => {
    const zoneDp = dp({ labels: { 'kuma.io/origin': 'zone', 'kuma.io/zone': 'zone-1' } });
    const zoneLabels = { 'kuma.io/origin': 'zone', 'kuma.io/zone': 'zone-2' };
    expect(selects(policy({}, zoneLabels), zoneDp)).toBe(false);
    expect(selects(policy({}, { ...zoneLabels, 'kuma.io/policy-role': 'producer' }), zoneDp)).toBe(true);
    expect(selects(policy({}, { 'kuma.io/origin': 'global' }), zoneDp)).toBe(true);
  });

  it('a delegated gateway is selected as a whole by tags over its gateway tags', () => {
    const gw = dp({ proxyType: 'Gateway', inbounds: [], gateway: { type: 'DELEGATED', tags: { 'kuma.io/service': 'edge' } } });
    expect(dataplaneSelection(policy({ targetRef: { kind: 'MeshService', name: 'edge' } }), gw)).toEqual({ inbounds: [], delegatedGateway: true });
    expect(selects(policy({ targetRef: { kind: 'MeshService', name: 'web' } }), gw)).toBe(false);
  });

  it('a MeshHTTPRoute cycle stops instead of recursing forever', () => {
    const route: PolicyItem = { type: 'MeshHTTPRoute', name: 'r', mesh: 'm', spec: { targetRef: { kind: 'MeshHTTPRoute', name: 'r' } } };
    const s = dataplaneSelection(policy({ targetRef: { kind: 'MeshHTTPRoute', name: 'r' } }), dp(), { route: () => route });
    expect(s.inbounds).toEqual([]);
    expect(s.error).toContain("couldn't resolve MeshHTTPRoute");
  });
});
