import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase, translationCases } from '../../testkit/translation-cases.ts';
import { TypeUrl } from '../../xds/protos.ts';
import { Translator } from '../../xds/translator.ts';
import { applyLocalityAwareness } from './locality.ts';
import { meshLoadBalancingStrategyPlugin } from './plugin.ts';

const dir = join(import.meta.dirname, 'testdata');

describe('MeshLoadBalancingStrategy plugin (golden)', () => {
  for (const [name, run] of translationCases(dir, [meshLoadBalancingStrategyPlugin])) it(name, run);
});

const cla = (...zones: string[]) => ({ cluster_name: 'b', endpoints: zones.map((zone) => ({ locality: { zone }, lb_endpoints: [] })) });
const priorities = (c: ReturnType<typeof cla>) => c.endpoints.map((e) => (e as { priority?: number }).priority ?? 0);

describe('locality awareness', () => {
  it('other zones go to priority 1; zone-less endpoints stay at 0', () => {
    const c = cla('zone-1', 'zone-2', '', 'zone-3');
    applyLocalityAwareness(c, 'zone-1');
    expect(priorities(c)).toEqual([0, 1, 0, 1]);
  });

  it('no priority gap when the local zone has no endpoint', () => {
    const c = cla('zone-2', 'zone-3');
    applyLocalityAwareness(c, 'zone-1');
    expect(priorities(c)).toEqual([0, 0]);
  });

  it('cross-zone failover: first admitting rule gives the priority, rules from other zones do not apply, unadmitted zones are dropped', () => {
    const c = cla('zone-1', 'zone-2', 'zone-3', 'zone-4', '');
    applyLocalityAwareness(c, 'zone-1', [
      { from: { zones: ['zone-9'] }, to: { type: 'Any' } },
      { to: { type: 'Only', zones: ['zone-3'] } },
      { from: { zones: ['zone-1'] }, to: { type: 'AnyExcept', zones: ['zone-4'] } },
      { to: { type: 'None' } },
    ]);
    // Rule priorities 2 (zone-3) and 3 (zone-2) renumbered to 1 and 2; zone-4 admitted by no rule.
    expect(c.endpoints.map((e) => [e.locality.zone, (e as { priority?: number }).priority ?? 0])).toEqual([['zone-1', 0], ['zone-2', 2], ['zone-3', 1], ['', 0]]);
  });

  it('consumers in different zones get different load assignment slots; the same zone shares one', () => {
    const { mesh, views, dataplane, policies } = loadCase(join(dir, 'round-robin.input.yaml'));
    const t = new Translator(undefined, [meshLoadBalancingStrategyPlugin]);
    const view = views.get(mesh)!;
    const slot = (dp: typeof dataplane) => t.translate(mesh, dp, view, policies).resources.get(TypeUrl.ClusterLoadAssignment)!.get('backend')!;
    const inZone = (zone: string) => {
      const spec = structuredClone(dataplane.spec) as { networking: { inbound: { tags: Record<string, string> }[] } };
      spec.networking.inbound[0]!.tags['kuma.io/zone'] = zone;
      return { ...dataplane, meta: { ...dataplane.meta, version: dataplane.meta.version + 100 }, spec };
    };
    const a = slot(inZone('zone-1'));
    const b = slot(inZone('zone-2'));
    expect(a.shareKey).not.toBe(b.shareKey);
    expect(slot(inZone('zone-1')).shareKey).toBe(a.shareKey);
    const prio = (r: typeof a) => ((r.body as { endpoints: { priority?: number; locality: { zone: string } }[] }).endpoints).map((e) => [e.locality.zone, e.priority ?? 0]);
    expect(prio(a)).toEqual([['zone-1', 0], ['zone-2', 1]]);
    expect(prio(b)).toEqual([['zone-1', 1], ['zone-2', 0]]);
  });
});
