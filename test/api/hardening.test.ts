import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, type HttpResult } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { rawRequest } from '../../libs/testkit/raw-http.ts';

/**
 * Hostile input on the REST API: every rejection is a precise 4xx in Kuma's error body naming
 * the field, the event log does not move, and the process still answers.
 */
let cp: KumaCpProcess;
const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => http(cp.url, method, path, body, headers);

const dataplane = (name: string, service = 'backend') => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: { address: '10.0.0.1', inbound: [{ port: 8080, servicePort: 80, tags: { 'kuma.io/service': service } }] },
});

/** The log head and everything listable: what a rejected request must leave alone. */
async function state(): Promise<unknown> {
  const head = (await api('GET', '/_events?size=1')).body.range;
  const meshes = (await api('GET', '/meshes?size=1000')).body.items;
  const dataplanes = (await api('GET', '/dataplanes?size=1000')).body.items;
  return { head, meshes, dataplanes };
}

function expectKumaError(res: { status: number; body: HttpResult['body'] }, status: number, field: string, reason: RegExp): void {
  expect(res.status).toBe(status);
  expect(res.body).toMatchObject({ type: '/std-errors', status });
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
  const match = (res.body.invalid_parameters as { field: string; reason: string }[]).find((p) => p.field === field);
  expect(match, JSON.stringify(res.body)).toBeDefined();
  expect(match!.reason).toMatch(reason);
}

/** Sends a hostile request and proves the three things: the answer, nothing changed, still alive. */
async function rejects(send: () => Promise<{ status: number; body: HttpResult['body'] }>, status: number, field: string, reason: RegExp): Promise<void> {
  const before = await state();
  let res: { status: number; body: HttpResult['body'] };
  try {
    res = await send();
  } catch (err) {
    throw new Error(`the request failed (${(err as Error).message}); kuma-cp output:\n${cp.output.slice(-3000)}`);
  }
  expectKumaError(res, status, field, reason);
  expect((await api('GET', '/')).status).toBe(200);
  expect(await state()).toEqual(before);
}

const nest = (open: string, close: string, n: number, inner = '') => open.repeat(n) + inner + close.repeat(n);

beforeAll(async () => {
  cp = await KumaCpProcess.start({ env: { KUMA_API_SERVER_HTTP_ALLOWED_HOSTS: 'cp.example.internal' } });
  expect((await api('PUT', '/meshes/default/dataplanes/existing', dataplane('existing'))).status).toBe(201);
});
afterAll(async () => cp?.destroy());

describe('REST API under hostile input', () => {
  describe('nesting depth and size', () => {
    it('refuses a 2 KB YAML body nested 1,000 levels deep with a 400 (it used to abort the process)', async () => {
      const body = `type: Mesh\nname: deep\nconstraints: ${nest('{"a":', '}', 1000, '1')}\n`;
      await rejects(() => api('PUT', '/meshes/deep', body, { 'content-type': 'application/yaml' }), 400, 'body', /nesting is deeper than 100 levels/);
    });

    it('refuses deep JSON, deep block YAML and a deep sequence', async () => {
      await rejects(() => api('PUT', '/meshes/deep', `{"type":"Mesh","name":"deep","constraints":${nest('[', ']', 1000)}}`, { 'content-type': 'application/json' }), 400, 'body', /nesting is deeper/);
      const block = 'type: Mesh\nname: deep\nconstraints:\n' + Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i + 1)}a:`).join('\n') + ' 1\n';
      await rejects(() => api('PUT', '/meshes/deep', block, { 'content-type': 'application/yaml' }), 400, 'body', /nesting is deeper/);
      await rejects(() => api('PUT', '/meshes/deep', `type: Mesh\nname: deep\nconstraints:\n${'- '.repeat(1000)}x\n`, { 'content-type': 'text/yaml' }), 400, 'body', /nesting is deeper/);
    });

    it('answers a YAML alias bomb with a 400, not a 500', async () => {
      const bomb = [
        'type: Mesh',
        'name: bomb',
        'a: &a ["x","x","x","x","x","x","x","x","x"]',
        'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
        'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
        'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      ].join('\n');
      await rejects(() => api('PUT', '/meshes/bomb', bomb, { 'content-type': 'application/yaml' }), 400, 'body', /alias/i);
    });
  });

  describe('prototype keys', () => {
    it('refuses a top-level __proto__ that smuggled an invalid Dataplane into the log', async () => {
      // Validation read `networking` through the prototype while the stored spec was empty.
      const body = `{"__proto__":${JSON.stringify({ networking: dataplane('x').networking })},"type":"Dataplane","mesh":"default","name":"proto-1"}`;
      await rejects(() => api('PUT', '/meshes/default/dataplanes/proto-1', body, { 'content-type': 'application/json' }), 400, '__proto__', /not allowed/);
      expect((await api('GET', '/meshes/default/dataplanes/proto-1')).status).toBe(404);
    });

    it('refuses constructor and prototype keys anywhere, with their path, in JSON and YAML', async () => {
      const withKey = { ...dataplane('proto-2'), networking: { ...dataplane('proto-2').networking, inbound: [{ port: 1, servicePort: 2, tags: { 'kuma.io/service': 'a', constructor: 'x' } }] } };
      await rejects(() => api('PUT', '/meshes/default/dataplanes/proto-2', withKey), 400, 'networking.inbound[0].tags.constructor', /not allowed/);
      await rejects(() => api('PUT', '/meshes/proto', 'type: Mesh\nname: proto\nmtls:\n  prototype: {}\n', { 'content-type': 'application/yaml' }), 400, 'mtls.prototype', /not allowed/);
    });
  });

  describe('browser and DNS-rebinding protection', () => {
    it('refuses a cross-origin text/plain POST /_restore with 415 (it used to delete a mesh)', async () => {
      await rejects(
        () => rawRequest({ url: `${cp.url}/_restore`, method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: JSON.stringify({ at: 1 }) }),
        415,
        'Content-Type',
        /application\/json/,
      );
    });

    it('refuses writes with a form media type or a body without a media type', async () => {
      await rejects(() => api('PUT', '/meshes/form', 'type=Mesh', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'Content-Type', /json/);
      await rejects(() => rawRequest({ url: `${cp.url}/meshes/form`, method: 'PUT', body: '{"type":"Mesh","name":"form"}' }), 415, 'Content-Type', /json/);
    });

    it('refuses cross-origin writes (Origin, Sec-Fetch-Site) and accepts same-origin ones', async () => {
      const mesh = JSON.stringify({ type: 'Mesh', name: 'browser' });
      const json = { 'content-type': 'application/json' };
      await rejects(() => rawRequest({ url: `${cp.url}/meshes/browser`, method: 'PUT', headers: { ...json, origin: 'http://evil.example' }, body: mesh }), 403, 'Origin', /cross-origin/);
      await rejects(() => rawRequest({ url: `${cp.url}/meshes/browser`, method: 'PUT', headers: { ...json, 'sec-fetch-site': 'cross-site' }, body: mesh }), 403, 'Sec-Fetch-Site', /cross-origin/);
      await rejects(() => rawRequest({ url: `${cp.url}/meshes/default/dataplanes/existing`, method: 'DELETE', headers: { origin: 'null' } }), 403, 'Origin', /cross-origin/);
      const same = await rawRequest({ url: `${cp.url}/meshes/browser`, method: 'PUT', headers: { ...json, origin: cp.url, 'sec-fetch-site': 'same-origin' }, body: mesh });
      expect(same.status).toBe(201);
    });

    it('gives a Host that is not this control plane (DNS rebinding) nothing, reads included: not the localhost admin', async () => {
      // With user tokens (the default), a rebound page reaches 127.0.0.1 but is not the admin: it has no token.
      const rebound = await rawRequest({ url: `${cp.url}/meshes`, method: 'GET', headers: { host: `rebound.attacker.example:${cp.apiPort}` } });
      expect(rebound.status).toBe(401);
      expect(rebound.body.detail).toMatch(/user token is required/);
      for (const host of [`localhost:${cp.apiPort}`, `127.0.0.1:${cp.apiPort}`]) {
        expect((await rawRequest({ url: `${cp.url}/meshes`, method: 'GET', headers: { host } })).status).toBe(200);
      }
    });

    it('keeps kumactl-style and curl-style requests working: JSON, YAML media types, DELETE without a body', async () => {
      expect((await api('PUT', '/meshes/curl-1', { type: 'Mesh', name: 'curl-1' }, { 'user-agent': 'kumactl/2.14.0' })).status).toBe(201);
      for (const type of ['application/yaml', 'application/x-yaml', 'text/yaml', 'application/merge-patch+json; charset=utf-8']) {
        const body = type.includes('json') ? '{"type":"Mesh","name":"curl-2"}' : 'type: Mesh\nname: curl-2\n';
        expect((await api('PUT', '/meshes/curl-2', body, { 'content-type': type })).status, type).toBeLessThan(300);
      }
      expect((await rawRequest({ url: `${cp.url}/meshes/curl-2`, method: 'DELETE' })).status).toBe(200);
    });
  });

  describe('POST /tokens/dataplane', () => {
    it.each([
      ['a non-string name (it used to issue a mesh-wide token)', { name: 123, mesh: 'default' }, 'name', /must be a string/],
      ['an unknown field', { name: 'web-1', nmae: 'x' }, 'nmae', /unknown field/],
      ['tags that are not lists', { mesh: 'default', tags: { 'kuma.io/service': 'web' } }, 'tags["kuma.io/service"]', /list/],
      ['a tag value that is not a string', { mesh: 'default', tags: { 'kuma.io/service': [1] } }, 'tags["kuma.io/service"][0]', /string/],
      ['a validFor that is not a string', { name: 'web-1', validFor: 3600 }, 'validFor', /must be a string/],
      ['a type that is not dataplane', { name: 'web-1', type: 'admin' }, 'type', /only "dataplane"/],
      ['a body that is not an object', [], 'body', /object/],
      ['a body nested too deep', `{"name":${nest('[', ']', 1000)}}`, 'body', /nesting/],
    ])('refuses %s with a 400 naming the field', async (_, body, field, reason) => {
      await rejects(() => api('POST', '/tokens/dataplane', typeof body === 'string' ? body : body, { 'content-type': 'application/json' }), 400, field, reason);
    });

    it('still issues a token for a valid request', async () => {
      const res = await api('POST', '/tokens/dataplane', { name: 'web-1', mesh: 'default', tags: { 'kuma.io/service': ['web'] }, validFor: '1h' });
      expect(res.status).toBe(200);
      expect(String(res.body).split('.')).toHaveLength(3);
    });
  });

  describe('GET /_events bounds', () => {
    it('answers 400 naming since/until for a point in the future or before the start of the log', async () => {
      const { until: head } = (await api('GET', '/_events?size=1')).body.range;
      const future = new Date(Date.now() + 3600_000).toISOString();
      await rejects(() => api('GET', `/_events?since=${head + 100}`), 400, 'since', /in the future/);
      await rejects(() => api('GET', `/_events?until=${head + 100}`), 400, 'until', /in the future/);
      await rejects(() => api('GET', `/_events?since=${encodeURIComponent(future)}`), 400, 'since', /in the future/);
      await rejects(() => api('GET', `/_events?until=${encodeURIComponent(future)}`), 400, 'until', /in the future/);
      await rejects(() => api('GET', `/_events?since=2001-01-01T00:00:00Z`), 400, 'since', /before the start of the log/);
      // Inside the log, and durations back from now, still answer.
      expect((await api('GET', `/_events?since=1&until=${head}`)).status).toBe(200);
      expect((await api('GET', '/_events?since=24h')).status).toBe(200);
    });
  });
});

describe('binding the API beyond loopback', () => {
  it('is refused at start-up without authentication, with a clear error', async () => {
    const err = await KumaCpProcess.start({ env: { KUMA_API_SERVER_HTTP_INTERFACE: '0.0.0.0', KUMA_API_SERVER_AUTHN_TYPE: 'none' } }).then(
      async (p) => {
        await p.destroy();
        return undefined;
      },
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/exited with 1/);
    expect(err?.message).toMatch(/apiServer\.http\.interface: "0\.0\.0\.0" is not a loopback address.*allowUnauthenticatedNonLoopback/s);
  });

  it('is allowed with the explicit opt-in, with a warning', async () => {
    const p = await KumaCpProcess.start({ env: { KUMA_API_SERVER_HTTP_INTERFACE: '0.0.0.0', KUMA_API_SERVER_AUTHN_TYPE: 'none', KUMA_API_SERVER_HTTP_ALLOW_UNAUTHENTICATED_NON_LOOPBACK: 'true' } });
    try {
      expect((await http(p.url, 'GET', '/')).status).toBe(200);
      expect(p.output).toMatch(/"level":40.*WITHOUT authentication/);
      // Without authentication the Host check is what stands against DNS rebinding.
      expect((await rawRequest({ url: `${p.url}/meshes`, method: 'GET', headers: { host: 'rebound.attacker.example' } })).status).toBe(403);
    } finally {
      await p.destroy();
    }
  });
});
