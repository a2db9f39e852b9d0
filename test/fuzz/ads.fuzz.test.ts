import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEnvoy } from '../../libs/testkit/ads-client.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';

/**
 * Property-based fuzzing of ADS connects on a real kuma-cp, for a bounded time
 * (FUZZ_ADS_SECONDS, 10 by default): random and mutated node ids, tokens (valid, bound to tags,
 * garbage, none) and `dataplane.resource` metadata (text or Struct). For every stream: the
 * process keeps answering; a stream the server closes leaves the event log where it was; and
 * at the end a well-behaved proxy is still served.
 */
const SECONDS = Number(process.env['FUZZ_ADS_SECONDS'] ?? 10);
let cp: KumaCpProcess;
const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';

const dataplane = (name: string, service: string) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: { address: '127.0.0.1', inbound: [{ port: 7070, servicePort: 7071, tags: { 'kuma.io/service': service } }] },
});

const name = fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/) }, fc.constantFrom('dp-1', 'dp-2', 'web-1', '__proto__', 'constructor', 'a'.repeat(300), 'Bad_Name', ''), fc.stringMatching(/^[a-z0-9-]{1,12}$/), fc.string({ maxLength: 10 }));
const nodeId = fc.oneof(
  { weight: 4, arbitrary: name.map((n) => `default.${n}`) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 8 }), name).map(([m, n]) => `${m}.${n}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const resourceText = fc.oneof(
  fc.tuple(name, fc.constantFrom('web', 'db', '')).map(([n, s]) => JSON.stringify(dataplane(n, s))),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ maxLength: 100 }),
  fc.constantFrom('{"a":'.repeat(1000) + '1' + '}'.repeat(1000), '[&a '.repeat(500), 'a: &a [*a]', '{"__proto__":{"networking":{}}}', 'type: Dataplane\nmesh: default\n'),
);
const metadata = fc.option(
  fc.oneof(
    { weight: 3, arbitrary: resourceText.map((t) => ({ 'dataplane.resource': t })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ 'dataplane.resource': v, version: v })) },
  ),
  { nil: undefined, freq: 4 },
);
const tokenKind = fc.constantFrom('valid', 'tags-web', 'garbage', 'none');
/** `own-*`: the proxy's own Dataplane (so some connects are accepted), of the service named. */
const own = fc.option(fc.constantFrom('web', 'db'), { nil: undefined, freq: 2 });
const connect = fc.record({ nodeId, metadata, own, tokenKind, mode: fc.constantFrom<'sotw' | 'delta'>('sotw', 'delta') });

async function head(): Promise<number> {
  return (await http(cp.url, 'GET', '/_events?size=1')).body.range.until as number;
}

async function tokenFor(kind: string, proxyName: string): Promise<string | undefined> {
  if (kind === 'none') return undefined;
  if (kind === 'garbage') return 'eyJhbGciOiJub25lIn0.e30.';
  const body = kind === 'valid' ? { name: proxyName, mesh: 'default' } : { mesh: 'default', tags: { 'kuma.io/service': ['web'] } };
  const res = await http(cp.url, 'POST', '/tokens/dataplane', body);
  return res.status === 200 ? (res.body as string) : undefined;
}

beforeAll(async () => {
  // No deregistration during the run: the log moves only when a stream is accepted.
  cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'memory', KUMA_LOG_LEVEL: 'warn', KUMA_XDS_DATAPLANE_DEREGISTRATION_DELAY: '1h' } });
});
afterAll(async () => cp?.destroy());

describe('ADS fuzzing', () => {
  it(`survives random and mutated connects, and changes nothing for a refused one (${SECONDS} s)`, { timeout: (SECONDS + 40) * 1000 }, async () => {
    let runs = 0;
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(connect, async (c) => {
        runs++;
        const proxyName = c.nodeId.slice(c.nodeId.indexOf('.') + 1);
        const token = await tokenFor(c.tokenKind, proxyName);
        const before = await head();
        const meta = c.own !== undefined ? { 'dataplane.resource': JSON.stringify(dataplane(proxyName, c.own)) } : c.metadata;
        const client = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: c.nodeId, mode: c.mode, ...(token ? { token } : {}), ...(meta ? { nodeMetadata: meta } : {}) });
        try {
          await client.waitFor((x) => x.responses.length > 0, 3000).catch(() => undefined);
          const code = client.error ? String(client.error.code) : client.responses.length > 0 ? 'served' : 'waiting';
          codes.set(code, (codes.get(code) ?? 0) + 1);
          if (client.error) {
            expect([3, 7, 9, 16], `${client.error.code} ${client.error.details}`).toContain(client.error.code);
            expect(await head()).toBe(before);
          }
        } finally {
          client.close();
        }
        expect((await http(cp.url, 'GET', '/')).status, cp.output.slice(-2000)).toBe(200);
      }),
      { numRuns: 100_000, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false, endOnFailure: true },
    );
    console.log(`ads fuzz: ${runs} connects in ${SECONDS} s; outcomes ${JSON.stringify(Object.fromEntries(codes))}`);
    expect(runs).toBeGreaterThan(5);
    // A well-behaved proxy is still served.
    const ok = new FakeEnvoy({ target: `127.0.0.1:${cp.dpPlaintextPort}`, nodeId: 'default.after-fuzz', mode: 'sotw', token: (await tokenFor('valid', 'after-fuzz'))!, nodeMetadata: { 'dataplane.resource': JSON.stringify(dataplane('after-fuzz', 'web')) } });
    try {
      await ok.waitFor((x) => x.names(LISTENER).length > 0, 15_000);
    } finally {
      ok.close();
    }
  });
});
