import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeConfs, mergePatch } from './merge.ts';

// Ports of Kuma's pkg/plugins/policies/core/rules/merge/merge_test.go. Go structs become their JSON encoding: fields
// without `omitempty` encode nil as null (which RFC 7396 treats as "delete"), `omitempty` fields are absent.
describe('mergeConfs: Kuma merge_test "merge confs"', () => {
  it('replaces lists by default but appends lists whose name starts with append', () => {
    const confs = [
      { fieldString: 'p1', strings: ['p1'], appendStrings: ['p1'], appendPointerToStrings: ['p1'], sub: { ints: [1], appendInts: [1] }, subPtr: { ints: [1], appendInts: [1] } },
      { fieldString: 'p2', strings: ['p2'], appendStrings: ['p2'], appendPointerToStrings: ['p2'], sub: { ints: [2], appendInts: [2] }, subPtr: { ints: [2], appendInts: [2] } },
      { strings: ['p3'], appendStrings: ['p3'], appendPointerToStrings: ['p3'], sub: { ints: [3], appendInts: [3] }, subPtr: { ints: [3], appendInts: [3] } },
    ];
    expect(mergeConfs(confs)).toEqual([
      {
        fieldString: 'p2',
        strings: ['p3'],
        appendStrings: ['p1', 'p2', 'p3'],
        appendPointerToStrings: ['p1', 'p2', 'p3'],
        sub: { ints: [3], appendInts: [1, 2, 3] },
        subPtr: { ints: [3], appendInts: [1, 2, 3] },
      },
    ]);
  });

  it('handles nils on the destination side', () => {
    const confs = [
      { fieldString: 'p1', strings: ['p1'], appendStrings: ['p1'], appendPointerToStrings: null, sub: { ints: [1], appendInts: [1] }, subPtr: { ints: [1], appendInts: [1] } },
      { fieldString: 'p2', strings: null, appendStrings: null, appendPointerToStrings: null, sub: { ints: null, appendInts: null } },
    ];
    expect(mergeConfs(confs)).toEqual([{ fieldString: 'p2', appendStrings: ['p1'], sub: { appendInts: [1] }, subPtr: { ints: [1], appendInts: [1] } }]);
  });

  it('handles nils on the source side', () => {
    const confs = [
      { fieldString: 'p1', strings: null, appendStrings: null, appendPointerToStrings: null, sub: { ints: null, appendInts: null } },
      { fieldString: 'p2', strings: null, appendStrings: null, appendPointerToStrings: null, sub: { ints: null, appendInts: [2] }, subPtr: { ints: null, appendInts: [2] } },
      { fieldString: 'p3', strings: null, appendStrings: null, appendPointerToStrings: null, sub: { ints: null, appendInts: null }, subPtr: { ints: [3], appendInts: null } },
      { fieldString: 'p4', strings: ['4'], appendStrings: ['4'], appendPointerToStrings: null, sub: { ints: [4], appendInts: [4] }, subPtr: { ints: [4], appendInts: [4] } },
    ];
    expect(mergeConfs(confs)).toEqual([{ fieldString: 'p4', strings: ['4'], appendStrings: ['4'], sub: { ints: [4], appendInts: [2, 4] }, subPtr: { ints: [4], appendInts: [2, 4] } }]);
  });
});

describe('mergeConfs: Kuma merge_test "mergeValuesByKey"', () => {
  const opts = { mergeValuesByKey: [{ field: 'MergeValues', key: 'key' }], mergeValues: 'DirectMergeValues' };
  const L = { Left: true, Right: false };
  const R = { Left: false, Right: true };
  const LR = { Left: true, Right: true };
  const other = [
    { key: L, default: { a: true } },
    { key: L, default: { b: true } },
    { key: R, default: { b: true } },
  ];

  it('works with a basic policy', () => {
    const confs = [
      { MergeValues: [{ key: L, default: { a: true } }, { key: L, default: { b: true } }], DirectMergeValues: null, otherValues: other },
      { MergeValues: [{ key: R, default: { b: true } }], DirectMergeValues: null },
      { MergeValues: [{ key: L, default: { b: false } }], DirectMergeValues: null },
    ];
    expect(mergeConfs(confs, opts)).toEqual([
      { MergeValues: [{ key: R, default: { b: true } }, { key: L, default: { a: true, b: false } }], otherValues: other },
    ]);
  });

  it('only merges based on the set of merge values', () => {
    const confs = [
      { DirectMergeValues: ['a', 'b'], MergeValues: [{ key: L, default: { a: true } }, { key: L, default: { b: true } }], otherValues: other },
      { DirectMergeValues: ['b'], MergeValues: [{ key: R, default: { b: true } }] },
      { DirectMergeValues: null, MergeValues: [{ key: LR, default: { b: true } }] },
    ];
    expect(mergeConfs(confs, opts)).toEqual([
      { DirectMergeValues: ['a'], MergeValues: [{ key: L, default: { a: true, b: true } }], otherValues: other },
      { DirectMergeValues: ['b'], MergeValues: [{ key: L, default: { a: true, b: true } }, { key: R, default: { b: true } }], otherValues: other },
      { MergeValues: [{ key: LR, default: { b: true } }] },
    ]);
  });

  it('works with an empty list of key values', () => {
    expect(mergeConfs([{}], opts)).toEqual([{}]);
  });
});

describe('mergeConfs: contract', () => {
  it('returns [] for no confs and never mutates its inputs', () => {
    expect(mergeConfs([])).toEqual([]);
    const a = { http: { requestTimeout: '1s', appendX: [1] } };
    const b = { http: { idleTimeout: '2s', appendX: [2] } };
    const snapshot = structuredClone([a, b]);
    const [out] = mergeConfs([a, b]) as [{ http: { appendX: number[] } }];
    out.http.appendX.push(99);
    expect([a, b]).toEqual(snapshot);
  });

  it('Kuma inbound testdata mt-rules: the alphabetically first policy (merged last) wins', () => {
    // rules/inbound/testdata/inboundrules/mt-rules: bbbbbb merged before aaaaaa; golden conf (durations as written).
    const bbb = { idleTimeout: '100s', connectionTimeout: '101s', http: { requestTimeout: '102s' } };
    const aaa = { idleTimeout: '10s', http: { requestTimeout: '12s' } };
    expect(mergeConfs([bbb, aaa])).toEqual([{ connectionTimeout: '101s', idleTimeout: '10s', http: { requestTimeout: '12s' } }]);
  });

  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string({ maxLength: 3 }), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }), tie('object')),
    object: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.oneof(tie('value'), fc.constant(null)), { maxKeys: 4 }),
  })).object;

  it('without directives equals folding RFC 7396 merge patch over the confs (nulls removed)', () => {
    fc.assert(
      fc.property(fc.array(json, { minLength: 1, maxLength: 5 }), (confs) => {
        const folded = confs.slice(1).reduce<unknown>((acc, c) => mergePatch(acc, c), structuredClone(confs[0]));
        const noNulls = JSON.parse(JSON.stringify(folded, (_k, v: unknown) => (v === null ? undefined : v)));
        expect(mergeConfs(confs)).toEqual([noNulls]);
      }),
      { numRuns: 200 },
    );
  });
});
