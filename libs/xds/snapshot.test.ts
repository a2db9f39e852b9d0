import { describe, expect, it } from 'vitest';
import { TypeUrl } from './protos.ts';
import { makeResource } from './resource.ts';
import { versionOf } from './snapshot.ts';

const cla = (name: string, port: number) =>
  makeResource(TypeUrl.ClusterLoadAssignment, name, { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } }] }] });

describe('versionOf', () => {
  const a = cla('a', 1);
  const b = cla('b', 2);
  const c = cla('c', 3);

  it('is the same for the same set in any order, and for equal resources built twice', () => {
    expect(versionOf([a, b, c])).toBe(versionOf([c, a, b]));
    expect(versionOf([a, b])).toBe(versionOf([cla('b', 2), cla('a', 1)]));
    expect(versionOf([a])).toMatch(/^[0-9a-f]{16}$/);
  });

  it('differs when a resource changes, is added, removed or renamed', () => {
    const v = versionOf([a, b, c]);
    expect(versionOf([a, b, cla('c', 4)])).not.toBe(v);
    expect(versionOf([a, b])).not.toBe(v);
    expect(versionOf([a, b, c, cla('d', 5)])).not.toBe(v);
    // the same content under another name is another set
    const named = (name: string) => makeResource(TypeUrl.ClusterLoadAssignment, name, c.body as never);
    expect(named('x').hash).toBe(named('y').hash);
    expect(versionOf([a, named('x')])).not.toBe(versionOf([a, named('y')]));
    expect(versionOf([])).not.toBe(versionOf([a]));
  });
});
