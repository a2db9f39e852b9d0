import { describe, expect, it } from 'vitest';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { makeResource, type XdsResource } from '../../libs/xds/resource.ts';
import { Held } from './held.ts';

const cla = (name: string, port: number) =>
  makeResource(TypeUrl.ClusterLoadAssignment, name, { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } }] }] });
const mapOf = (...rs: XdsResource[]) => new Map(rs.map((r) => [r.name, r]));
const all = (h: Held) => {
  const out: Record<string, string | undefined> = {};
  h.forEach((n) => (out[n] = h.get(n)));
  return out;
};

describe('Held (what a delta proxy holds of one type)', () => {
  const [a1, a2, b1, c1] = [cla('a', 1), cla('a', 2), cla('b', 1), cla('c', 1)];

  it('starts from the initial versions and follows sets and removals', () => {
    const h = new Held({ a: 'x' });
    expect(all(h)).toEqual({ a: 'x' });
    h.set('b', b1.hash);
    h.set('a', null);
    expect(all(h)).toEqual({ b: b1.hash });
    expect(h.get('a')).toBeUndefined();
  });

  it('holds a snapshot map by reference once it holds exactly that, and stays right through later changes', () => {
    const h = new Held();
    const m1 = mapOf(a1, b1);
    h.rebase(m1); // holds nothing yet: not rebased
    expect(all(h)).toEqual({});
    h.set('a', a1.hash);
    h.set('b', b1.hash);
    h.rebase(m1);
    expect(all(h)).toEqual({ a: a1.hash, b: b1.hash });
    expect((h as unknown as { diff?: unknown }).diff).toBeUndefined();
    expect((h as unknown as { base?: unknown }).base).toBe(m1);

    // a change: a moves to a2, c is added, b is removed
    h.set('a', a2.hash);
    h.set('c', c1.hash);
    h.set('b', null);
    expect(all(h)).toEqual({ a: a2.hash, c: c1.hash });
    const m2 = mapOf(a2, b1, c1);
    h.rebase(m2); // b is in the map but not held: stays as it is
    expect(all(h)).toEqual({ a: a2.hash, c: c1.hash });
    const m3 = mapOf(a2, c1);
    h.rebase(m3);
    expect((h as unknown as { base?: unknown }).base).toBe(m3);
    expect(all(h)).toEqual({ a: a2.hash, c: c1.hash });
    // setting what the base already says leaves no difference behind
    h.set('a', 'other');
    h.set('a', a2.hash);
    expect((h as unknown as { diff?: unknown }).diff).toBeUndefined();
  });

  it('does not rebase onto a map with other versions or other names', () => {
    const h = new Held({ a: a1.hash });
    h.rebase(mapOf(a2));
    expect(h.get('a')).toBe(a1.hash);
    h.rebase(mapOf(a1, b1));
    expect(all(h)).toEqual({ a: a1.hash });
  });
});
