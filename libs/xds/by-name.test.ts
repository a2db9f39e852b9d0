import { describe, expect, it } from 'vitest';
import { MeshViews } from '../mesh-view/mesh-view.ts';
import type { Resource } from '../resources/resource.ts';
import { isServiceListenerName, serviceByName } from './generate/by-name.ts';
import { Translator } from './translator.ts';
import { TypeUrl } from './protos.ts';
import { makeResource } from './resource.ts';
import { SnapshotCache } from './snapshot-cache.ts';
import { buildSnapshot, sameContent, withNamedOnly, type Snapshot } from './snapshot.ts';

const listener = (name: string, port: number) => makeResource(TypeUrl.Listener, name, { name, address: { socket_address: { address: '0.0.0.0', port_value: port } } });
const cluster = (name: string, t = 5) => makeResource(TypeUrl.Cluster, name, { name, type: 'EDS', connect_timeout: { seconds: t }, eds_cluster_config: { eds_config: { ads: {} } } });

const resource = (type: string, mesh: string | undefined, name: string, spec: Record<string, unknown>): Resource => ({
  meta: { type, ...(mesh ? { mesh } : {}), name, labels: {}, creationTime: '', modificationTime: '', version: 1 },
  spec,
});
function views(): MeshViews {
  const v = new MeshViews();
  for (const m of ['a', 'b']) v.apply('Mesh', undefined, m, resource('Mesh', undefined, m, {}));
  const dp = (mesh: string, name: string, port: number, svc: string) =>
    v.apply('Dataplane', mesh, name, resource('Dataplane', mesh, name, { networking: { address: '10.0.0.1', inbound: [{ port, tags: { 'kuma.io/service': svc, 'kuma.io/protocol': 'grpc' } }] } }));
  dp('a', 'greeter-1', 1001, 'greeter');
  dp('b', 'greeter-x', 2001, 'greeter');
  dp('b', 'lonely-1', 2002, 'lonely');
  return v;
}
const ports = (s: Snapshot | undefined) => {
  const cla = s?.namedOnly.get(TypeUrl.ClusterLoadAssignment)?.get('greeter')?.body as { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[] }[] } | undefined;
  return cla?.endpoints.flatMap((l) => l.lb_endpoints.map((e) => e.endpoint.address.socket_address.port_value));
};

describe('services asked for by name', () => {
  it('builds a service\'s listener, cluster and endpoints from its own mesh only, shared between calls', () => {
    const v = views();
    const shared = new Translator();
    const a = serviceByName('a', v.get('a'), 'greeter', shared)!;
    expect([...a.namedOnly.keys()].sort()).toEqual([TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener].sort());
    expect(a.resources.size).toBe(0);
    expect(ports(a)).toEqual([1001]);
    expect(ports(serviceByName('b', v.get('b'), 'greeter', shared))).toEqual([2001]);
    // a service of another mesh does not exist here; nor does anything in an unknown mesh
    expect(serviceByName('a', v.get('a'), 'lonely', shared)).toBeUndefined();
    expect(serviceByName('zzz', v.get('zzz'), 'greeter', shared)).toBeUndefined();
    // built once per service revision: the same resource objects for every client
    const again = serviceByName('a', v.get('a'), 'greeter', shared)!;
    expect(again.namedOnly.get(TypeUrl.Listener)!.get('greeter')).toBe(a.namedOnly.get(TypeUrl.Listener)!.get('greeter'));
  });

  it('tells service names from a proxy\'s own listener names', () => {
    expect(isServiceListenerName('greeter')).toBe(true);
    expect(isServiceListenerName('backend_kuma-demo_svc_8080')).toBe(true);
    for (const n of ['', 'kuma.io/grpc/inbound/127.0.0.1:5000', 'inbound:10.0.0.1:80', 'outbound:127.0.0.1:10001', 'kuma:envoy:admin', 'x'.repeat(254)]) expect(isServiceListenerName(n), n).toBe(false);
  });

  it('overlays by-name resources under the proxy\'s own, sharing the maps it does not touch', () => {
    const own = buildSnapshot([listener('inbound:1', 1), cluster('greeter', 7)], [listener('kuma.io/grpc/inbound/x', 2)]);
    const extra = [listener('greeter', 3), cluster('greeter', 5)];
    const s = withNamedOnly(own, extra);
    expect(s.resources).toBe(own.resources);
    expect([...s.namedOnly.get(TypeUrl.Listener)!.keys()].sort()).toEqual(['greeter', 'kuma.io/grpc/inbound/x']);
    // the proxy's own cluster of that name wins
    expect(s.namedOnly.get(TypeUrl.Cluster)).toBeUndefined();
    expect(own.namedOnly.get(TypeUrl.Listener)!.has('greeter')).toBe(false);
    expect(withNamedOnly(own, [])).toBe(own);
    expect(sameContent(withNamedOnly(own, extra), s)).toBe(true);
    expect(sameContent(s, own)).toBe(false);
  });

  it('SnapshotCache: asks for a service on its first watch, answers at once (undefined when absent), and notifies only real changes', () => {
    const asked: string[] = [];
    const cache = new SnapshotCache({ onFirstServiceWatch: (mesh, svc) => asked.push(`${mesh}/${svc}`) });
    const seen: (Snapshot | undefined)[] = [];
    const stop = cache.watchService('a', 'greeter', (s) => seen.push(s));
    expect(asked).toEqual(['a/greeter']);
    expect(seen).toEqual([undefined]);
    expect(cache.wantsService('a', 'greeter')).toBe(true);
    expect(cache.wantsService('b', 'greeter')).toBe(false);
    const v = views();
    const shared = new Translator();
    cache.setService('a', 'greeter', serviceByName('a', v.get('a'), 'greeter', shared));
    cache.setService('a', 'greeter', serviceByName('a', v.get('a'), 'greeter', shared));
    cache.setService('b', 'greeter', serviceByName('b', v.get('b'), 'greeter', shared));
    expect(seen.length).toBe(2);
    expect(ports(seen[1])).toEqual([1001]);
    // a second watcher gets the current state without a second request
    const later: (Snapshot | undefined)[] = [];
    const stop2 = cache.watchService('a', 'greeter', (s) => later.push(s));
    expect(asked.length).toBe(1);
    expect(ports(later[0])).toEqual([1001]);
    stop();
    stop2();
    expect(cache.wantsService('a', 'greeter')).toBe(false);
  });
});
