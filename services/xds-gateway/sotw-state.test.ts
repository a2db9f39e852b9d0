import { describe, expect, it } from 'vitest';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { makeResource, type XdsResource } from '../../libs/xds/resource.ts';
import { versionOf } from '../../libs/xds/snapshot.ts';
import { SotwTypeState } from './sotw-state.ts';

const cla = (name: string, port: number): XdsResource =>
  makeResource(TypeUrl.ClusterLoadAssignment, name, {
    cluster_name: name,
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } }] }],
  });
const cluster = (name: string, timeout: number): XdsResource =>
  makeResource(TypeUrl.Cluster, name, { name, type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } }, connect_timeout: { seconds: timeout } });
const listener = (name: string, port: number): XdsResource =>
  makeResource(TypeUrl.Listener, name, { name, address: { socket_address: { address: '0.0.0.0', port_value: port } } });

const names = (r: { resources: readonly XdsResource[] } | undefined) => r?.resources.map((x) => x.name);
const asMap = (rs: readonly XdsResource[]) => new Map(rs.map((r) => [r.name, r]));

/** Plans, and if there is something to send, records it as sent (as the stream does). */
function push(s: SotwTypeState, rs: readonly XdsResource[], nonce: string) {
  const r = s.plan(rs);
  if (r) s.sent(r, nonce, asMap(rs));
  return r;
}

describe('SotW per-type state', () => {
  it('sends LDS and CDS whole every time something changes, and nothing when nothing did', () => {
    const s = new SotwTypeState(TypeUrl.Listener);
    s.request('wildcard');
    const [a, b] = [listener('a', 1), listener('b', 2)];
    expect(names(push(s, [a, b], '1'))).toEqual(['a', 'b']);
    expect(push(s, [a, b], '2')).toBeUndefined();
    const b2 = listener('b', 3);
    const r = push(s, [a, b2], '3');
    expect(names(r)).toEqual(['a', 'b']);
    expect(r!.version).toBe(versionOf([a, b2]));
  });

  it('sends EDS whole at first, then only the resources that changed, with the version of the whole set', () => {
    const s = new SotwTypeState(TypeUrl.ClusterLoadAssignment);
    s.request(new Set(['x', 'y', 'z']));
    const [x, y, z] = [cla('x', 1), cla('y', 2), cla('z', 3)];
    expect(names(push(s, [x, y, z], '1'))).toEqual(['x', 'y', 'z']);
    s.ack();
    const y2 = cla('y', 20);
    const r = push(s, [x, y2, z], '2');
    expect(names(r)).toEqual(['y']);
    expect(r!.version).toBe(versionOf([x, y2, z]));
    expect(s.lastSentVersion).toBe(versionOf([x, y2, z]));
    expect(s.lastNonce).toBe('2');
    expect(push(s, [x, y2, z], '3')).toBeUndefined();
  });

  it('sends names a re-subscription adds even if unchanged, and simply stops sending removed ones', () => {
    const s = new SotwTypeState(TypeUrl.ClusterLoadAssignment);
    const [x, y, z] = [cla('x', 1), cla('y', 2), cla('z', 3)];
    s.request(new Set(['x', 'y']));
    push(s, [x, y], '1');
    s.request(new Set(['x', 'y', 'z']));
    expect(names(push(s, [x, y, z], '2'))).toEqual(['z']);
    // y is dropped: nothing changed among the rest, so nothing is sent.
    s.request(new Set(['x', 'z']));
    expect(push(s, [x, z], '3')).toBeUndefined();
    // Asked for again later, y is sent again although its content never changed.
    s.request(new Set(['x', 'y', 'z']));
    expect(names(push(s, [x, y, z], '4'))).toEqual(['y']);
  });

  it('answers the first request of a type even when none of its names exist yet', () => {
    const s = new SotwTypeState(TypeUrl.ClusterLoadAssignment);
    s.request(new Set(['ghost']));
    const r = push(s, [], '1');
    expect(r).toEqual({ version: versionOf([]), resources: [] });
    expect(push(s, [], '2')).toBeUndefined();
    const ghost = cla('ghost', 1);
    expect(names(push(s, [ghost], '3'))).toEqual(['ghost']);
  });

  it('after a NACK, keeps the rejected content back until it changes, and sends the rest that changes', () => {
    const s = new SotwTypeState(TypeUrl.ClusterLoadAssignment);
    s.request(new Set(['x', 'y']));
    const [x, y] = [cla('x', 1), cla('y', 2)];
    push(s, [x, y], '1');
    s.ack();
    const xBad = cla('x', 99);
    const rejected = push(s, [xBad, y], '2');
    expect(names(rejected)).toEqual(['x']);
    s.nack();
    expect(s.nackedVersion).toBe(rejected!.version);
    // The same set is not sent again (no loop).
    expect(push(s, [xBad, y], '3')).toBeUndefined();
    // Another resource changes: only it goes out; the rejected x is not re-sent.
    const y2 = cla('y', 20);
    expect(names(push(s, [xBad, y2], '4'))).toEqual(['y']);
    // x changes again: it is sent.
    const xGood = cla('x', 10);
    expect(names(push(s, [xGood, y2], '5'))).toEqual(['x']);
  });

  it('after a NACK of a response that carried several resources, sends the good ones again with the next change', () => {
    const s = new SotwTypeState(TypeUrl.ClusterLoadAssignment);
    s.request(new Set(['a', 'b']));
    push(s, [cla('a', 1), cla('b', 2)], '1');
    s.ack();
    // One response carries a good new a and a bad new b; the proxy rejects it whole and keeps the old a.
    const [a2, bBad] = [cla('a', 10), cla('b', 99)];
    expect(names(push(s, [a2, bBad], '2'))).toEqual(['a', 'b']);
    s.nack();
    expect(push(s, [a2, bBad], '3')).toBeUndefined();
    // b is fixed: a goes out again too, or the proxy would keep its old endpoints until a changes.
    expect(names(push(s, [a2, cla('b', 20)], '4'))).toEqual(['a', 'b']);
  });

  it('treats RDS like EDS, and a wildcard EDS request keeps what it holds', () => {
    const r = new SotwTypeState(TypeUrl.RouteConfiguration);
    expect(r.incremental).toBe(true);
    expect(new SotwTypeState(TypeUrl.Cluster).incremental).toBe(false);
    const s = new SotwTypeState(TypeUrl.ClusterLoadAssignment);
    s.request('wildcard');
    const [x, y] = [cla('x', 1), cla('y', 2)];
    push(s, [x, y], '1');
    s.request('wildcard');
    expect(push(s, [x, cla('y', 3)], '2')?.resources.map((q) => q.name)).toEqual(['y']);
  });

  it('tells which clusters a CDS response updates (not the ones it adds), against what was sent and what was acknowledged', () => {
    const s = new SotwTypeState(TypeUrl.Cluster);
    s.request('wildcard');
    const [x, y] = [cluster('x', 1), cluster('y', 1)];
    const first = s.plan([x])!;
    expect(s.updated(first)).toEqual([]);
    s.sent(first, '1');
    s.ack();
    const adds = s.plan([x, y])!;
    expect(s.updated(adds)).toEqual([]);
    s.sent(adds, '2');
    s.ack();
    const x2 = cluster('x', 2);
    const update = s.plan([x2, y])!;
    expect(s.updated(update)).toEqual(['x']);
    s.sent(update, '3');
    s.nack();
    // The proxy kept x at 1: a response that changes only y still updates x for it.
    const y2 = cluster('y', 2);
    const next = s.plan([x2, y2])!;
    expect(s.updated(next).sort()).toEqual(['x', 'y']);
    expect(new SotwTypeState(TypeUrl.ClusterLoadAssignment).updated({ version: '', resources: [cla('x', 1)] })).toEqual([]);
  });

  it('tells updates of a wildcard CDS from the snapshot maps it was sent, and of a named one from what it carried', () => {
    const wild = new SotwTypeState(TypeUrl.Cluster);
    wild.request('wildcard');
    const [x, y] = [cluster('x', 1), cluster('y', 1)];
    push(wild, [x, y], '1');
    wild.ack();
    const next = wild.plan([cluster('x', 2), y])!;
    expect(wild.updated(next)).toEqual(['x']);
    const named = new SotwTypeState(TypeUrl.Cluster);
    named.request(new Set(['x']));
    // The snapshot has y too, but the response carried x only.
    const r = named.plan([x])!;
    named.sent(r, '1', asMap([x, y]));
    named.ack();
    expect(named.updated({ version: 'v', resources: [cluster('x', 3)] })).toEqual(['x']);
    named.request(new Set(['x', 'y']));
    expect(named.updated({ version: 'v', resources: [x, cluster('y', 3)] })).toEqual([]);
  });

  it('sends the load assignments of updated clusters again although they did not change, with whatever else changed', () => {
    const s = new SotwTypeState(TypeUrl.ClusterLoadAssignment);
    s.request(new Set(['x', 'y', 'z']));
    const [x, y, z] = [cla('x', 1), cla('y', 2), cla('z', 3)];
    push(s, [x, y, z], '1');
    s.ack();
    // Nothing changed: nothing to send, until x's cluster is updated.
    expect(push(s, [x, y, z], '2')).toBeUndefined();
    expect(s.rewarm(['x', 'ghost'])).toBe(true);
    const z2 = cla('z', 30);
    const r = push(s, [x, y, z2], '3');
    expect(names(r)).toEqual(['x', 'z']);
    expect(r!.version).toBe(versionOf([x, y, z2]));
    // Once: the next plan is back to changes only.
    expect(push(s, [x, y, z2], '4')).toBeUndefined();
    // A cluster whose load assignment the proxy does not hold (not asked for, or not sent yet) forces nothing.
    expect(s.rewarm(['ghost'])).toBe(false);
    expect(push(s, [x, y, z2], '5')).toBeUndefined();
    // The rewarm also bypasses the check of the set's version (the same set as last sent).
    expect(s.rewarm(['y'])).toBe(true);
    expect(names(push(s, [x, y, z2], '6'))).toEqual(['y']);
  });
});
