import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase, translationCases } from '../../testkit/translation-cases.ts';
import { Translator } from '../../xds/translator.ts';
import { TypeUrl } from '../../xds/protos.ts';
import { InvalidDurationError } from '../core/proto-duration.ts';
import { configureCluster } from './configurers.ts';
import { meshTimeoutPlugin } from './plugin.ts';

const dir = join(import.meta.dirname, 'testdata');

describe('MeshTimeout plugin (golden)', () => {
  for (const [name, run] of translationCases(dir, [meshTimeoutPlugin])) it(name, run);
});

describe('MeshTimeout plugin', () => {
  it('leaves resources untouched when no MeshTimeout applies', () => {
    const { mesh, views, dataplane } = loadCase(join(dir, 'http-outbound.input.yaml'));
    const plain = new Translator().translate(mesh, dataplane, views.get(mesh)!);
    const withPlugin = new Translator(undefined, [meshTimeoutPlugin]).translate(mesh, dataplane, views.get(mesh)!);
    for (const [type, byName] of plain.resources) {
      for (const [name, r] of byName) expect(withPlugin.resources.get(type)!.get(name)!.hash, name).toBe(r.hash);
    }
  });

  it('proxies configured alike share the resources; different timeouts do not', () => {
    const { mesh, views, dataplane, policies } = loadCase(join(dir, 'http-outbound.input.yaml'));
    const t = new Translator(undefined, [meshTimeoutPlugin]);
    const a = t.translate(mesh, dataplane, views.get(mesh)!, policies);
    const b = t.translate(mesh, dataplane, views.get(mesh)!, policies);
    expect(b.resources.get(TypeUrl.Cluster)!.get('backend')).toBe(a.resources.get(TypeUrl.Cluster)!.get('backend'));
    const other = t.translate(mesh, dataplane, views.get(mesh)!, { ...policies, toService: (type, s) => (s === 'backend' ? { connectionTimeout: '9s' } : policies.toService(type, s)) });
    expect(other.resources.get(TypeUrl.Cluster)!.get('backend')!.hash).not.toBe(a.resources.get(TypeUrl.Cluster)!.get('backend')!.hash);
  });

  it('a request timeout change rebuilds the routes alone: clusters and listeners stay the same objects', () => {
    const { mesh, views, dataplane, policies } = loadCase(join(dir, 'http-outbound.input.yaml'));
    const t = new Translator(undefined, [meshTimeoutPlugin]);
    const view = views.get(mesh)!;
    const first = t.retranslate(mesh, dataplane, view, policies).translation;
    const conf = (policies.toService('MeshTimeout', 'backend') ?? {}) as { http?: object };
    const longer = { ...conf, http: { ...conf.http, requestTimeout: '42s' } };
    const changed = { ...policies, toService: (type: string, s: string) => (s === 'backend' ? longer : policies.toService(type, s)) };
    const next = t.retranslate(mesh, dataplane, view, changed, first, new Set(['MeshTimeout']));
    expect(next.changed).toBe(true);
    const before = first.snapshot.resources;
    const after = next.translation.snapshot.resources;
    expect(after.get(TypeUrl.Cluster)).toBe(before.get(TypeUrl.Cluster));
    expect(after.get(TypeUrl.Listener)).toBe(before.get(TypeUrl.Listener));
    expect(after.get(TypeUrl.RouteConfiguration)!.get('outbound:backend')!.hash).not.toBe(before.get(TypeUrl.RouteConfiguration)!.get('outbound:backend')!.hash);
  });

  it('a per-route configuration (MeshHTTPRoute target) overrides the service one on that route only', () => {
    const drafts = [
      {
        typeUrl: TypeUrl.RouteConfiguration,
        name: 'outbound:backend',
        namedOnly: false,
        body: { name: 'outbound:backend', virtual_hosts: [{ name: 'backend', domains: ['*'], routes: [
          { name: 'r1', match: { prefix: '/a' }, route: { cluster: 'backend' } },
          { name: 'r2', match: { prefix: '/' }, route: { cluster: 'backend' } },
        ] }] },
      },
    ];
    meshTimeoutPlugin.apply(drafts, { kind: 'routes', scoped: { to: { http: { requestTimeout: '1s' } }, routes: { r1: { http: { requestTimeout: '3s' } } } } }, undefined as never);
    const routes = (drafts[0]!.body.virtual_hosts[0]!.routes as { route: Record<string, unknown> }[]).map((r) => r.route);
    expect(routes[0]!['timeout']).toEqual({ seconds: 3 });
    expect(routes[1]!['timeout']).toEqual({ seconds: 1 });
    expect(routes[1]!['idle_timeout']).toEqual({ seconds: 1800 });
  });
});

describe('MeshTimeout plugin input', () => {
  it('a duration no validator should have let through fails with a named error, naming the text', () => {
    const c: Record<string, unknown> = {};
    expect(() => configureCluster(c, { connectionTimeout: '5 parsecs' }, 'tcp')).toThrow(InvalidDurationError);
    expect(() => configureCluster(c, { connectionTimeout: '5 parsecs' }, 'tcp')).toThrow(/5 parsecs/);
  });
});
