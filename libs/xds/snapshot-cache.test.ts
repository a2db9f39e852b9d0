import { describe, expect, it } from 'vitest';
import { TypeUrl } from './protos.ts';
import { makeResource, type XdsResource } from './resource.ts';
import { SnapshotCache } from './snapshot-cache.ts';
import { buildSnapshot, type Snapshot } from './snapshot.ts';

/** A load assignment in slot `slot` (by default the one named after it, as while no policy configures it). */
const cla = (name: string, port: number, slot = name) =>
  makeResource(TypeUrl.ClusterLoadAssignment, name, { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } }] }] }, slot);
const cluster = (name: string) => makeResource(TypeUrl.Cluster, name, { name, type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } });

function watched(cache: SnapshotCache, key: string) {
  const seen: (Snapshot | undefined)[] = [];
  const stop = cache.watch(key, (s) => seen.push(s));
  return { seen, stop, last: () => seen[seen.length - 1] };
}
const port = (s: Snapshot | undefined, name: string) => {
  const r: XdsResource | undefined = s?.resources.get(TypeUrl.ClusterLoadAssignment)?.get(name);
  return r && (r.body as { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[] }[] }).endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.port_value;
};

describe('SnapshotCache.setShared', () => {
  it('replaces a shared load assignment in the snapshots that hold it, and only there', () => {
    const cache = new SnapshotCache();
    const web1 = watched(cache, 'default.web-1');
    const web2 = watched(cache, 'default.web-2');
    const db = watched(cache, 'default.db-1');
    const other = watched(cache, 'other.web-1');
    cache.set('default.web-1', buildSnapshot([cluster('backend'), cla('backend', 1), cla('db', 5)]));
    cache.set('default.web-2', buildSnapshot([cla('backend', 1)]));
    cache.set('default.db-1', buildSnapshot([cla('db', 5)]));
    cache.set('other.web-1', buildSnapshot([cla('backend', 1)]));
    const before = web1.last()!;

    cache.setShared('default', cla('backend', 2), 1234);
    expect(port(web1.last(), 'backend')).toBe(2);
    expect(port(web2.last(), 'backend')).toBe(2);
    expect(web1.last()!.changedAt).toBe(1234);
    // the other types' maps are the same objects; the other mesh and non-holders are untouched
    expect(web1.last()!.resources.get(TypeUrl.Cluster)).toBe(before.resources.get(TypeUrl.Cluster));
    expect(port(web1.last(), 'db')).toBe(5);
    expect(db.seen).toHaveLength(1);
    expect(other.seen).toHaveLength(1);

    // the same resource again changes nothing
    const backend3 = cla('backend', 3);
    cache.setShared('default', backend3);
    const count = web1.seen.length;
    cache.setShared('default', backend3);
    expect(web1.seen).toHaveLength(count);
  });

  it('follows what each snapshot holds: a proxy that stopped using a service, or stopped watching, is left out', () => {
    const cache = new SnapshotCache();
    const web1 = watched(cache, 'default.web-1');
    const web2 = watched(cache, 'default.web-2');
    cache.set('default.web-1', buildSnapshot([cla('backend', 1)]));
    cache.set('default.web-2', buildSnapshot([cla('backend', 1)]));
    cache.set('default.web-1', buildSnapshot([cla('db', 5)]));
    web2.stop();
    cache.setShared('default', cla('backend', 2));
    expect(port(web1.last(), 'backend')).toBeUndefined();
    expect(web1.seen).toHaveLength(2);
    expect(web2.seen).toHaveLength(1);
    // it comes back when a snapshot holds it again
    cache.set('default.web-1', buildSnapshot([cla('backend', 2), cla('db', 5)]));
    cache.setShared('default', cla('backend', 3));
    expect(port(web1.last(), 'backend')).toBe(3);
  });

  it('keeps the slots of one service apart: proxies configured differently hold different slots', () => {
    const cache = new SnapshotCache();
    const a = watched(cache, 'default.a');
    const b = watched(cache, 'default.b');
    cache.set('default.a', buildSnapshot([cla('backend', 1, 'backend~x')]));
    cache.set('default.b', buildSnapshot([cla('backend', 1, 'backend~y')]));
    cache.setShared('default', cla('backend', 2, 'backend~x'));
    expect(port(a.last(), 'backend')).toBe(2);
    expect(port(b.last(), 'backend')).toBe(1);
    expect(b.seen).toHaveLength(1);
    // a resource without a slot is never served by reference
    cache.setShared('default', makeResource(TypeUrl.ClusterLoadAssignment, 'backend', { cluster_name: 'backend' }));
    expect(port(a.last(), 'backend')).toBe(2);
  });
});
