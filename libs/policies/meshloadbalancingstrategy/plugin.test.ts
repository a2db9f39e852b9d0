import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase, translationCases } from '../../testkit/translation-cases.ts';
import { TypeUrl } from '../../xds/protos.ts';
import { Translator } from '../../xds/translator.ts';
import { applyLocalityAwareness, overprovisioningFactor } from './locality.ts';
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

describe('hash policies per route', () => {
  it('a MeshHTTPRoute-targeted configuration gives its route its own hash policies; other routes keep the service ones', () => {
    const routes = ['r1', 'r2'].map((name) => ({ name, match: { prefix: `/${name}` }, route: { cluster: 'b' } }));
    const part = {
      kind: 'rds',
      origin: { kind: 'outbound' as const, service: 'b', protocol: 'http' as const },
      inputs: ['hash-per-route-test'],
      build: () => [{ typeUrl: TypeUrl.RouteConfiguration, name: 'outbound:b', namedOnly: false, body: { name: 'outbound:b', virtual_hosts: [{ name: 'b', domains: ['*'], routes: structuredClone(routes) }] } }],
    };
    const conf = { loadBalancer: { type: 'RingHash', ringHash: { hashPolicies: [{ type: 'Header', header: { name: 'x-svc' } }] } } };
    const policies = {
      toService: () => conf,
      toRoute: (_t: string, _s: string, route: string) => (route === 'r1' ? { hashPolicies: [{ type: 'QueryParameter', queryParameter: { name: 'u' } }] } : undefined),
      fromInbound: () => undefined,
      proxy: () => undefined,
    };
    const applied = meshLoadBalancingStrategyPlugin.configure(part, { policies } as never);
    const drafts = part.build();
    meshLoadBalancingStrategyPlugin.apply(drafts, applied, part);
    const hp = (drafts[0]!.body.virtual_hosts[0]!.routes as unknown as { route: { hash_policy: unknown } }[]).map((r) => r.route.hash_policy);
    expect(hp).toEqual([[{ query_parameter: { name: 'u' } }], [{ header: { header_name: 'x-svc' } }]]);
  });

  it('overprovisioning factor from failoverThreshold, as Kuma computes it', () => {
    expect([50, 30, '12.5', 100, 0].map(overprovisioningFactor)).toEqual([200, 300, 800, 100, 200]);
  });
});
