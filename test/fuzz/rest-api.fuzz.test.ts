import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { rawRequest, type RawResult } from '../../libs/testkit/raw-http.ts';

/**
 * Property-based fuzzing of the REST API of a real kuma-cp, for a bounded time
 * (FUZZ_SECONDS, 20 by default): random and mutated bodies, names, paths, query strings and
 * media types. For every request: the answer is a 2xx, or a 4xx in Kuma's error body; a
 * rejected request leaves the event log where it was; and the process keeps answering.
 * fast-check shrinks a failure to a small request and prints its seed to replay it.
 */
const SECONDS = Number(process.env['FUZZ_SECONDS'] ?? 20);
let cp: KumaCpProcess;

const validDataplane = {
  type: 'Dataplane',
  mesh: 'default',
  name: 'fuzz-dp',
  networking: { address: '10.0.0.1', inbound: [{ port: 8080, servicePort: 80, tags: { 'kuma.io/service': 'backend', 'kuma.io/protocol': 'http' } }] },
};
const validMesh = { type: 'Mesh', name: 'fuzz-mesh', mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } };
const validPolicy = { type: 'MeshTimeout', mesh: 'default', name: 'fuzz-t', spec: { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: '1s' } }] } };

/** Paths where a value is replaced, inserted or removed in a valid resource. */
const MUTATION_PATHS: (string | number)[][] = [
  ['type'], ['name'], ['mesh'], ['labels'], ['labels', 'kuma.io/zone'], ['__proto__'], ['constructor'], ['spec'],
  ['networking'], ['networking', 'address'], ['networking', 'inbound'], ['networking', 'inbound', 0], ['networking', 'inbound', 0, 'port'],
  ['networking', 'inbound', 0, 'servicePort'], ['networking', 'inbound', 0, 'tags'], ['networking', 'inbound', 0, 'tags', 'kuma.io/service'],
  ['networking', 'inbound', 0, 'tags', 'kuma.io/protocol'], ['networking', 'outbound'], ['networking', 'gateway'], ['networking', 'transparentProxying'],
  ['mtls'], ['mtls', 'backends'], ['mtls', 'backends', 0, 'type'], ['mtls', 'enabledBackend'], ['spec', 'targetRef'], ['spec', 'to', 0, 'default'],
];

function mutate(base: unknown, path: readonly (string | number)[], value: unknown, remove: boolean): unknown {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let cur: Record<string | number, unknown> = copy;
  for (const p of path.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== 'object' || next === null) return copy;
    cur = next as Record<string | number, unknown>;
  }
  const leaf = path[path.length - 1]!;
  if (remove) delete cur[leaf];
  else Object.defineProperty(cur, leaf, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

const segment = fc.oneof(
  fc.constantFrom('default', 'fuzz-mesh', 'fuzz-dp', 'dp-1', '__proto__', 'constructor', '..', '.', '', 'a'.repeat(300), 'UPPER', 'x_y', 'a.b', '%', '%zz', '+', '*'),
  fc.string({ maxLength: 20 }),
  fc.stringMatching(/^[a-z0-9-]{1,30}$/),
);
const encodedSegment = fc.tuple(segment, fc.boolean()).map(([s, raw]) => (raw && /^[\w.%+*-]*$/.test(s) ? s : encodeURIComponent(s)));
const plural = fc.constantFrom('meshes', 'dataplanes', 'meshtimeouts', 'meshtrafficpermissions', 'secrets', 'global-secrets', 'frobnicators', 'dataplanes+insights', '_events', '_diff', '_history', '_config');
const path = fc.oneof(
  fc.tuple(plural).map(([p]) => `/${p}`),
  fc.tuple(plural, encodedSegment).map(([p, n]) => `/${p}/${n}`),
  fc.tuple(encodedSegment, plural, encodedSegment).map(([m, p, n]) => `/meshes/${m}/${p}/${n}`),
  fc.tuple(encodedSegment, plural).map(([m, p]) => `/meshes/${m}/${p}`),
  fc.tuple(encodedSegment, encodedSegment).map(([m, n]) => `/meshes/${m}/dataplanes/${n}/_config`),
  fc.tuple(encodedSegment, encodedSegment, plural).map(([m, n, p]) => `/meshes/${m}/${p}/${n}/_history`),
  fc.constantFrom('/', '/_events', '/_diff', '/_restore', '/_replay/verify', '/tokens/dataplane', '/meshes/default/dataplanes'),
);
const queryKey = fc.oneof(
  fc.constantFrom('size', 'offset', 'name', 'filter[labels.team]', 'filter[labelds.x]', 'tag', 'gateway', 'at', 'since', 'until', 'cursor', 'format', 'mesh', 'type', 'operation', 'actor', 'from', 'to', '__proto__'),
  fc.string({ maxLength: 8 }),
);
const queryValue = fc.oneof(
  fc.constantFrom('1', '0', '-1', '1000', '1001', '2h', '1970-01-01T00:00:00Z', '2999-01-01T00:00:00Z', '99999999', 'jsonl', 'json', 'kuma.io/service:backend', 'true', ''),
  fc.string({ maxLength: 12 }),
  fc.integer().map(String),
);
const query = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 4 }).map((pairs) => (pairs.length === 0 ? '' : '?' + pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')));

const bodyValue = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(validDataplane, validMesh, validPolicy), fc.constantFrom(...MUTATION_PATHS), fc.jsonValue({ maxDepth: 3 }), fc.boolean()).map(([b, p, v, r]) => mutate(b, p, v, r)) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(validDataplane, validMesh, validPolicy, { at: 1, dryRun: true }, { name: 'x', mesh: 'default' }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.object({ maxDepth: 3 }) },
);
const bodyText = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(bodyValue, fc.boolean()).map(([v, yaml]) => (yaml ? toYaml(v) : JSON.stringify(v) ?? 'null')) },
  // Text-level mutations: a few characters spliced into a valid body.
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(JSON.stringify(validDataplane), toYaml(validDataplane), toYaml(validMesh)), fc.nat(), fc.nat({ max: 5 }), fc.string({ maxLength: 6 })).map(([t, at, del, ins]) => t.slice(0, at % (t.length + 1)) + ins + t.slice((at % (t.length + 1)) + del)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('[[[[[[[[', '{"a":'.repeat(200), 'a: &a [*a]', '- '.repeat(300), '---\n---\n', '\u0000', 'a: !!binary AAAA', '? [a]\n: b', '%YAML 1.1\n---\na: b') },
);
const contentType = fc.constantFrom<string | undefined>('application/json', 'application/yaml', 'application/json; charset=utf-8', 'text/yaml', 'application/x-yaml', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined);
/** A (mutated) resource PUT where it belongs, so most of these reach validation rather than routing. */
const RESOURCE_PATHS: Record<string, string> = { Dataplane: '/meshes/default/dataplanes/fuzz-dp', Mesh: '/meshes/fuzz-mesh', MeshTimeout: '/meshes/default/meshtimeouts/fuzz-t' };
const coherentWrite = fc
  .tuple(fc.constantFrom(validDataplane, validMesh, validPolicy), fc.array(fc.tuple(fc.constantFrom(...MUTATION_PATHS), fc.jsonValue({ maxDepth: 3 }), fc.boolean()), { maxLength: 3 }), fc.boolean(), fc.constantFrom('application/json', 'application/yaml'))
  .map(([base, mutations, yaml, contentType]) => {
    const body = mutations.reduce<unknown>((b, [p, v, r]) => mutate(b, p, v, r), base);
    return { method: 'PUT', path: RESOURCE_PATHS[base.type]!, query: '', body: yaml || contentType === 'application/yaml' ? toYaml(body) : JSON.stringify(body), contentType, ifMatch: undefined };
  });
const anyRequest = fc.record({
  method: fc.constantFrom('GET', 'PUT', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
  path,
  query,
  body: fc.option(bodyText, { nil: undefined, freq: 4 }),
  contentType,
  ifMatch: fc.option(fc.oneof(fc.constantFrom('"1"', '"x"', '*', 'W/"2"'), fc.string({ maxLength: 5 })), { nil: undefined, freq: 5 }),
});
const request = fc.oneof(anyRequest, coherentWrite);

async function head(): Promise<unknown> {
  const res = await rawRequest({ url: `${cp.url}/_events?size=1`, method: 'GET' });
  return res.body?.range;
}

function isKumaError(res: RawResult): boolean {
  const b = res.body;
  return typeof b === 'object' && b !== null && b.type === '/std-errors' && b.status === res.status && typeof b.title === 'string' && typeof b.detail === 'string';
}

beforeAll(async () => {
  cp = await KumaCpProcess.start({ env: { KUMA_STORE_TYPE: 'memory', KUMA_LOG_LEVEL: 'warn' } });
});
afterAll(async () => cp?.destroy());

describe('REST API fuzzing', () => {
  it(`answers every random or mutated request with a 2xx or a Kuma 4xx, changes nothing when it refuses, and stays up (${SECONDS} s)`, { timeout: (SECONDS + 30) * 1000 }, async () => {
    let runs = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        runs++;
        const before = await head();
        const headers: Record<string, string> = { ...(r.contentType !== undefined ? { 'content-type': r.contentType } : {}), ...(r.ifMatch !== undefined ? { 'if-match': r.ifMatch.replace(/[^\x20-\x7e]/g, '') } : {}) };
        const withBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
        let res: RawResult;
        try {
          res = await rawRequest({ url: cp.url + r.path + r.query, method: r.method, headers, ...(withBody ? { body: r.body } : {}) });
        } catch (err) {
          throw new Error(`request failed: ${(err as Error).message}\n${cp.output.slice(-2000)}`, { cause: err });
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, res.text.slice(0, 500)).toBeGreaterThanOrEqual(200);
        expect(res.status, res.text.slice(0, 500)).toBeLessThan(500);
        if (res.status >= 400 && r.method !== 'HEAD') {
          expect(isKumaError(res), `${res.status} without Kuma's error body: ${res.text.slice(0, 500)}`).toBe(true);
          expect(await head()).toEqual(before);
        }
        expect((await rawRequest({ url: `${cp.url}/`, method: 'GET' })).status).toBe(200);
      }),
      { numRuns: 1_000_000, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false, endOnFailure: true },
    );
    console.log(`fuzz: ${runs} requests in ${SECONDS} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    expect(runs).toBeGreaterThan(50);
  });
});
