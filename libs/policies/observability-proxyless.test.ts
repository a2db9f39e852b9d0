import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase } from '../testkit/translation-cases.ts';
import { NO_POLICIES } from '../xds/generate/plugin.ts';
import { TypeUrl } from '../xds/protos.ts';
import type { Snapshot } from '../xds/snapshot.ts';
import { Translator } from '../xds/translator.ts';
import { meshAccessLogPlugin } from './meshaccesslog/plugin.ts';
import { meshMetricPlugin } from './meshmetric/plugin.ts';
import { meshPassthroughPlugin } from './meshpassthrough/plugin.ts';
import { meshProxyPatchPlugin } from './meshproxypatch/plugin.ts';
import { meshTracePlugin } from './meshtrace/plugin.ts';

const OBSERVABILITY = [meshAccessLogPlugin, meshTracePlugin, meshMetricPlugin, meshPassthroughPlugin, meshProxyPatchPlugin];
const hashes = (s: Snapshot, section: 'resources' | 'namedOnly', type: string) => Object.fromEntries([...(s[section].get(type as TypeUrl)?.values() ?? [])].map((r) => [r.name, r.hash]));

describe('observability plugins and proxyless gRPC', () => {
  const c = loadCase(join(import.meta.dirname, 'testdata', 'observability-proxyless.yaml'));
  const view = c.views.get(c.mesh)!;
  const plain = new Translator().translate(c.mesh, c.dataplane, view);

  it('leave everything a proxyless client gets unchanged: by-name listeners, the service clusters and load assignments', () => {
    const configured = new Translator(undefined, OBSERVABILITY).translate(c.mesh, c.dataplane, view, c.policies);
    expect(Object.keys(hashes(plain, 'namedOnly', TypeUrl.Listener)).sort()).toEqual(['client', 'echo', 'kuma.io/grpc/inbound/0.0.0.0:8080', 'kuma.io/grpc/inbound/10.0.0.1:8080']);
    for (const type of [TypeUrl.Listener, TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.RouteConfiguration]) {
      expect(hashes(configured, 'namedOnly', type), type).toEqual(hashes(plain, 'namedOnly', type));
    }
    for (const svc of ['echo']) {
      expect(configured.resources.get(TypeUrl.Cluster)!.get(svc)!.hash).toBe(plain.resources.get(TypeUrl.Cluster)!.get(svc)!.hash);
      expect(configured.resources.get(TypeUrl.ClusterLoadAssignment)!.get(svc)!.hash).toBe(plain.resources.get(TypeUrl.ClusterLoadAssignment)!.get(svc)!.hash);
    }
    // ...while Envoy's own resources did change (the policies are in effect)
    expect(configured.resources.get(TypeUrl.Cluster)!.has('meshtrace:zipkin')).toBe(true);
    expect(configured.resources.get(TypeUrl.Listener)!.has('_kuma:metrics:prometheus:default-backend')).toBe(true);
  });

  it('change nothing without policies, and proxies configured alike share the resulting objects', () => {
    const translator = new Translator(undefined, OBSERVABILITY);
    const none = translator.translate(c.mesh, c.dataplane, view, NO_POLICIES);
    for (const type of [TypeUrl.Listener, TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.RouteConfiguration]) {
      expect(hashes(none, 'resources', type), type).toEqual(hashes(plain, 'resources', type));
    }
    const a = translator.translate(c.mesh, c.dataplane, view, c.policies);
    const b = translator.translate(c.mesh, c.dataplane, view, c.policies);
    const listener = (s: Snapshot) => s.resources.get(TypeUrl.Listener)!.get('outbound:127.0.0.1:10001');
    expect(listener(a)).toBeDefined();
    expect(listener(b)).toBe(listener(a));
    expect(listener(a)!.hash).not.toBe(listener(none)!.hash);
  });
});
