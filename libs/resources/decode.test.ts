import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DecodeError, decodeJson, decodeYaml, decodeYamlDocuments, DEFAULT_DECODE_LIMITS, FORBIDDEN_KEYS, scanJsonDepth, scanYaml } from './decode.ts';

const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const blockNest = (n: number) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';

function decodeErrorOf(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DecodeError) return err;
    throw err;
  }
  throw new Error('expected a DecodeError');
}

const dataplaneYaml = `type: Dataplane
mesh: default
name: dp-1
labels:
  team: a # a comment with [ and {
networking:
  address: 10.0.0.1
  inbound:
  - port: 8080
    servicePort: 80
    tags:
      kuma.io/service: backend
      kuma.io/protocol: http
  outbound:
  - port: 10001
    tags: {kuma.io/service: web}
`;

describe('decode', () => {
  it('decodes ordinary JSON and YAML as the parsers do', () => {
    const json = { type: 'Mesh', name: 'm', a: [1, { b: 'x[y{' }], s: 'quote " and \\ inside' };
    expect(decodeJson(JSON.stringify(json))).toEqual(json);
    expect(decodeYaml(JSON.stringify(json))).toEqual(json);
    const dp = decodeYaml(dataplaneYaml) as { networking: { inbound: unknown[]; outbound: { tags: unknown }[] } };
    expect(dp.networking.inbound).toHaveLength(1);
    expect(dp.networking.outbound[0]!.tags).toEqual({ 'kuma.io/service': 'web' });
  });

  it('reads quotes and plain scalars as the parser does: a quote inside a plain scalar hides nothing', () => {
    // `b, "` is a plain scalar (no string starts there), so the flow nesting on the next line counts.
    for (const text of [`a: b, "\nb: ${deepArray(200)}\n`, `a: x - "\nb: ${deepArray(200)}\n`, `a: plain\n  "oops\nb: ${deepArray(200)}\n`, `[a:"x, ${deepArray(200)}]`]) {
      expect(decodeErrorOf(() => decodeYaml(text)).reason, text.slice(0, 16)).toMatch(/nesting is deeper than 100 levels|./);
      expect(() => scanYaml(text)).toThrow(/nesting is deeper than 100 levels/);
    }
  });

  it('keeps plain scalars, quotes, comments and block scalars out of the depth count', () => {
    const text = [
      'a: foo[bar{baz',
      "b: don't [count] this",
      'c: "[[[[[[[[[[[["',
      "d: '{{{{{{{{{{{{'",
      'e: |',
      ...Array.from({ length: 200 }, (_, i) => `  ${' '.repeat(i)}[[[[ {{{{`),
      'f: >-',
      '   text',
      '        deeper text',
      'g: # [[[[[[[[[[',
      '  - 1',
    ].join('\n');
    const v = decodeYaml(text, { ...DEFAULT_DECODE_LIMITS, maxDepth: 4 }) as Record<string, unknown>;
    expect(v['a']).toBe('foo[bar{baz');
    expect(v['g']).toEqual([1]);
  });

  it('refuses JSON nested beyond the limit before parsing, with the position', () => {
    expect(decodeErrorOf(() => decodeJson(deepArray(1000))).reason).toMatch(/^line 1, column 101: nesting is deeper than 100 levels$/);
    expect(decodeErrorOf(() => decodeJson(deepObject(1000))).reason).toMatch(/nesting is deeper than 100 levels/);
    expect(decodeJson(deepArray(100))).toBeDefined();
  });

  it('refuses YAML nested beyond the limit in flow style, block style and sequences', () => {
    for (const text of [deepArray(1000), deepObject(1000), `a: ${deepArray(1000)}`, blockNest(1000), '- '.repeat(1000) + 'x', '{a: '.repeat(1000) + '1' + '}'.repeat(1000)]) {
      expect(decodeErrorOf(() => decodeYaml(text)).reason).toMatch(/nesting is deeper than 100 levels/);
    }
    // Tags and anchors in front of a node do not hide its nesting.
    for (const text of ['[&a '.repeat(1000), '[!t '.repeat(1000), '!t ['.repeat(1000), '&a ['.repeat(1000), '!t['.repeat(1000), '[!<tag:x,y> '.repeat(1000), 'a: !!map {b: !!map '.repeat(500)]) {
      expect(decodeErrorOf(() => decodeYaml(text)).reason, text.slice(0, 12)).toMatch(/nesting is deeper than 100 levels/);
    }
    expect(decodeYaml('a: &x [1, !!str 2]\nb: *x\nc: !!map {d: &y e}\n')).toEqual({ a: [1, '2'], b: [1, '2'], c: { d: 'e' } });
    // Compact sequences on continuation lines are counted at their columns, not once per line.
    const compact = Array.from({ length: 30 }, (_, i) => `${' '.repeat(i * 8)}- - - -`).join('\n') + ' x\n';
    expect(decodeErrorOf(() => decodeYaml(compact)).reason).toMatch(/nesting is deeper/);
  });

  it('refuses an alias bomb as a DecodeError (not an internal error)', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]'].join('\n');
    expect(decodeErrorOf(() => decodeYaml(bomb)).reason).toMatch(/alias/i);
    const many = `a: &a 1\nb: [${Array.from({ length: 101 }, () => '*a').join(', ')}]`;
    expect(decodeErrorOf(() => decodeYaml(many)).reason).toMatch(/more than 100 alias references/);
  });

  it('re-checks depth after aliases multiply it', () => {
    const levels = Array.from({ length: 3 }, (_, i) => `l${i + 1}: &l${i + 1} ${'['.repeat(40)}${i === 0 ? '1' : `*l${i}`}${']'.repeat(40)}`);
    expect(decodeErrorOf(() => decodeYaml(levels.join('\n'))).reason).toMatch(/nesting is deeper than 100 levels/);
  });

  it('rejects prototype keys anywhere, with their field path', () => {
    expect(decodeErrorOf(() => decodeJson('{"__proto__":{"networking":{}},"type":"Dataplane"}')).field).toBe('__proto__');
    expect(decodeErrorOf(() => decodeJson('{"a":[{"b":{"\\u005f_proto__":1}}]}')).field).toBe('a[0].b.__proto__');
    expect(decodeErrorOf(() => decodeYaml('networking:\n  constructor: 1\n')).field).toBe('networking.constructor');
    expect(decodeErrorOf(() => decodeYaml('labels: {"x.y": {prototype: 1}}')).field).toBe('labels["x.y"].prototype');
  });

  it('refuses text over the size limit', () => {
    expect(decodeErrorOf(() => decodeJson(`"${'é'.repeat(600)}"`, { ...DEFAULT_DECODE_LIMITS, maxBytes: 1000 })).reason).toBe('is larger than 1000 bytes');
    expect(decodeJson(`"${'e'.repeat(900)}"`, { ...DEFAULT_DECODE_LIMITS, maxBytes: 1000 })).toHaveLength(900);
  });

  it('names syntax errors and counts documents', () => {
    expect(decodeErrorOf(() => decodeJson('{"a":')).reason).toMatch(/JSON/);
    expect(decodeErrorOf(() => decodeYaml('a: 1\na: 2\n')).reason).toMatch(/unique/i);
    expect(decodeYamlDocuments('a: 1\n---\n---\nb: 2\n')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(decodeErrorOf(() => decodeYaml('a: 1\n---\nb: 2\n')).reason).toBe('expected one document, got 2');
    expect(decodeYaml('')).toBeUndefined();
  });
});

describe('decode pre-scan (property)', () => {
  const depthOf = (v: unknown): number => (typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null)), tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 3 }),
    object: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !FORBIDDEN_KEYS.has(k)), tie('value'), { maxKeys: 3 }),
  }));

  it('never estimates less nesting than the parsed value has, in any YAML or JSON style', () => {
    fc.assert(
      fc.property(value, fc.constantFrom<'any' | 'flow' | 'block'>('any', 'flow', 'block'), fc.integer({ min: 1, max: 4 }), fc.boolean(), (v, collectionStyle, indent, json) => {
        const text = json ? JSON.stringify(v) : stringify(v, { collectionStyle, indent });
        const real = depthOf(decodeYaml(text, { ...DEFAULT_DECODE_LIMITS, maxDepth: 1000 }) ?? null);
        if (real === 0) return;
        expect(() => scanYaml(text, { ...DEFAULT_DECODE_LIMITS, maxDepth: real - 1 }), text).toThrow(DecodeError);
        if (json) expect(() => scanJsonDepth(text, { ...DEFAULT_DECODE_LIMITS, maxDepth: real - 1 }), text).toThrow(DecodeError);
      }),
      { numRuns: 2000 },
    );
  });
});
