import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpDataplane } from '../../libs/testkit/dataplanes.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';

let cp: KumaCpProcess;
const api = (method: string, path: string, body?: unknown) => http(cp.url, method, path, body);

const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const web = (outbounds: { port: number; service: string }[] = []) =>
  httpDataplane('web-1', 8080, 'web', { outbound: outbounds.map((o) => ({ port: o.port, tags: { 'kuma.io/service': o.service } })) });
const rateLimit = (num: number) => ({
  type: 'MeshRateLimit',
  mesh: 'default',
  name: 'rl-backend',
  spec: {
    targetRef: { kind: 'MeshSubset', proxyTypes: ['Sidecar'], tags: { 'kuma.io/service': 'backend' } },
    rules: [{ default: { local: { http: { requestRate: { num, interval: '10s' } } } } }],
  },
});

/** The log's head and every resource of the mesh: what a preview must leave exactly as it was. */
async function stored(): Promise<unknown> {
  const events = await api('GET', '/_events?size=1000');
  const dps = await api('GET', '/meshes/default/dataplanes?size=1000');
  const rls = await api('GET', '/meshes/default/meshratelimits?size=1000');
  return { events: events.body, dps: dps.body.items, rls: rls.body.items };
}

let firstWebVersion = 0;
const LABELS = { 'kuma.io/env': 'universal', 'kuma.io/mesh': 'default', 'kuma.io/origin': 'zone', 'kuma.io/zone': 'default' };
const DEFAULT_TIMEOUT = { type: 'MeshTimeout', mesh: 'default', name: 'mesh-timeout-all-default', labels: LABELS };

beforeAll(async () => {
  cp = await KumaCpProcess.start();
  const put = await api('PUT', '/meshes/default/dataplanes/web-1', web([{ port: 10001, service: 'backend' }]));
  expect(put.status).toBe(201);
  firstWebVersion = Number(JSON.parse(put.headers.get('etag')!));
  expect((await api('PUT', '/meshes/default/dataplanes/backend-1', httpDataplane('backend-1', 8081, 'backend'))).status).toBe(201);
  expect((await api('PUT', '/meshes/default/dataplanes/backend-2', httpDataplane('backend-2', 8082, 'backend'))).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await cp?.destroy();
});

describe('GET /meshes/{mesh}/dataplanes/{name}/_rules', () => {
  it("lists Kuma's InspectRules for the default policies, with Kuma's origins", async () => {
    const res = await api('GET', '/meshes/default/dataplanes/web-1/_rules');
    expect(res.status).toBe(200);
    expect(res.body.resource).toEqual({ type: 'Dataplane', mesh: 'default', name: 'web-1', labels: { ...LABELS, 'kuma.io/proxy-type': 'sidecar' } });
    expect(res.body.httpMatches).toEqual([]);
    const types = (res.body.rules as { type: string }[]).map((r) => r.type);
    // Kuma's plugin order.
    expect(types).toEqual(['MeshTimeout', 'MeshCircuitBreaker', 'MeshRetry']);
    const mt = res.body.rules.find((r: { type: string }) => r.type === 'MeshTimeout');
    expect(mt.warnings).toEqual([]);
    expect(mt.toRules).toEqual([
      {
        conf: { connectionTimeout: '5s', idleTimeout: '1h', http: { requestTimeout: '15s', streamIdleTimeout: '30m' } },
        matchers: [],
        origin: [DEFAULT_TIMEOUT],
      },
    ]);
    expect(mt.fromRules).toEqual([
      {
        inbound: { port: 8080, tags: { 'kuma.io/service': 'web', 'kuma.io/protocol': 'http' } },
        rules: [
          {
            conf: { connectionTimeout: '10s', idleTimeout: '2h', http: { requestTimeout: '0s', streamIdleTimeout: '1h', maxStreamDuration: '0s' } },
            matchers: [],
            origin: [DEFAULT_TIMEOUT],
          },
        ],
      },
    ]);
    expect(mt.toResourceRules).toEqual([]);
    expect(mt.inboundRules).toEqual([
      {
        inbound: { port: 8080, tags: { 'kuma.io/service': 'web', 'kuma.io/protocol': 'http' } },
        rules: [{ conf: [mt.fromRules[0].rules[0].conf], origin: [{ resourceMeta: DEFAULT_TIMEOUT, ruleIndex: 0 }] }],
      },
    ]);
    expect(mt.proxyRule).toBeUndefined();
  });

  it('answers 404 with Kuma\'s body for an unknown dataplane or mesh', async () => {
    const dp = await api('GET', '/meshes/default/dataplanes/nope/_rules');
    expect(dp.status).toBe(404);
    expect(dp.body).toEqual({ type: '/std-errors', status: 404, title: 'Could not get MatchedPolicies', detail: 'Not found', details: 'Not found' });
    const mesh = await api('GET', '/meshes/nope/dataplanes/web-1/_rules');
    expect(mesh.status).toBe(404);
    expect(mesh.body.title).toBe('Could not build MeshContext');
  });
});

describe('GET /meshes/{mesh}/dataplanes/{name}/_policies', () => {
  it('lists the proxy policies with their KRIs', async () => {
    const empty = await api('GET', '/meshes/default/dataplanes/web-1/_policies');
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ policies: [] });
    const trace = { type: 'MeshTrace', mesh: 'default', name: 'trace-all', spec: { targetRef: { kind: 'Mesh' }, default: { backends: [{ type: 'Zipkin', zipkin: { url: 'http://zipkin:9411/api/v2/spans' } }] } } };
    expect((await api('PUT', '/meshes/default/meshtraces/trace-all', trace)).status).toBe(201);
    const res = await api('GET', '/meshes/default/dataplanes/web-1/_policies');
    expect(res.body.policies).toHaveLength(1);
    expect(res.body.policies[0]).toMatchObject({ kind: 'MeshTrace', conf: { backends: [{ type: 'Zipkin', zipkin: { url: 'http://zipkin:9411/api/v2/spans' } }] }, origins: [{ kri: 'kri_mtr_default_default__trace-all_' }] });
    expect((await api('DELETE', '/meshes/default/meshtraces/trace-all')).status).toBe(200);
  });

  it('answers 404 for an unknown dataplane', async () => {
    expect((await api('GET', '/meshes/default/dataplanes/nope/_policies')).status).toBe(404);
  });
});

describe('GET /meshes/{mesh}/{policy}/{name}/_resources/dataplanes', () => {
  it("lists, paginated as Kuma does, the dataplanes a policy selects", async () => {
    expect((await api('PUT', '/meshes/default/meshratelimits/rl-backend', rateLimit(100))).status).toBe(201);
    const all = await api('GET', '/meshes/default/meshratelimits/rl-backend/_resources/dataplanes');
    expect(all.status).toBe(200);
    expect(all.body).toEqual({
      total: 2,
      items: [
        { mesh: 'default', name: 'backend-1', type: 'Dataplane' },
        { mesh: 'default', name: 'backend-2', type: 'Dataplane' },
      ],
      next: null,
    });
    const page = await api('GET', '/meshes/default/meshratelimits/rl-backend/_resources/dataplanes?size=1&offset=1');
    expect(page.body).toMatchObject({ total: 2, items: [{ mesh: 'default', name: 'backend-2', type: 'Dataplane' }], next: null });
    const mesh = await api('GET', '/meshes/default/meshtimeouts/mesh-timeout-all-default/_resources/dataplanes');
    expect(mesh.body.total).toBe(3);
    expect((await api('DELETE', '/meshes/default/meshratelimits/rl-backend')).status).toBe(200);
  });

  it("answers Kuma's 404 for a missing policy and 400 for a type that is not a policy", async () => {
    const missing = await api('GET', '/meshes/default/meshtimeouts/nope/_resources/dataplanes');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ type: '/std-errors', status: 404, title: 'Could not retrieve policy', detail: 'Not found', details: 'Not found' });
    const notPolicy = await api('GET', '/meshes/default/dataplanes/web-1/_resources/dataplanes');
    expect(notPolicy.status).toBe(400);
    expect(notPolicy.body.invalid_parameters[0].field).toBe('policyType');
  });
});

describe('?at= on _config, _rules and _policies (time travel)', () => {
  it('computes the configuration a proxy had at a past position, and its rules then', async () => {
    const before = await api('GET', '/meshes/default/dataplanes/web-1/_config');
    expect(before.status).toBe(200);
    const at = (await api('GET', '/_events?size=1000')).body;
    const seq = Math.max(...(at.items as { seq: number }[]).map((e) => e.seq));
    expect(seq).toBeGreaterThanOrEqual(firstWebVersion);
    // Change the proxy: one more outbound, and a policy it is selected by.
    expect((await api('PUT', '/meshes/default/dataplanes/web-1', web([{ port: 10001, service: 'backend' }, { port: 10002, service: 'other' }]))).status).toBe(200);
    const timeout = { type: 'MeshTimeout', mesh: 'default', name: 'web-timeout', spec: { targetRef: { kind: 'MeshSubset', tags: { 'kuma.io/service': 'web' } }, to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '7s' } }] } };
    expect((await api('PUT', '/meshes/default/meshtimeouts/web-timeout', timeout)).status).toBe(201);
    const now = await api('GET', '/meshes/default/dataplanes/web-1/_config');
    expect(Object.keys(now.body.xds[CLUSTER])).toContain('other');

    const past = await api('GET', `/meshes/default/dataplanes/web-1/_config?at=${seq}`);
    expect(past.status).toBe(200);
    expect(past.headers.get('x-kuma-at')).toBe(String(seq));
    expect(past.body).toEqual(before.body);

    const rulesThen = await api('GET', `/meshes/default/dataplanes/web-1/_rules?at=${seq}`);
    const rulesNow = await api('GET', '/meshes/default/dataplanes/web-1/_rules');
    const origins = (r: { body: { rules: { type: string; toRules: { origin: { name: string }[] }[] }[] } }) =>
      r.body.rules.find((x) => x.type === 'MeshTimeout')!.toRules.flatMap((t) => t.origin.map((o) => o.name));
    expect(origins(rulesThen)).not.toContain('web-timeout');
    expect(origins(rulesNow)).toContain('web-timeout');
    // Proxy-level policies then and now: a MeshTrace written after `seq` is not in the past answer.
    const trace = { type: 'MeshTrace', mesh: 'default', name: 'trace-later', spec: { targetRef: { kind: 'Mesh' }, default: { backends: [{ type: 'Zipkin', zipkin: { url: 'http://zipkin:9411/api/v2/spans' } }] } } };
    expect((await api('PUT', '/meshes/default/meshtraces/trace-later', trace)).status).toBe(201);
    const policiesThen = await api('GET', `/meshes/default/dataplanes/web-1/_policies?at=${seq}`);
    expect(policiesThen.status).toBe(200);
    expect(policiesThen.headers.get('x-kuma-at')).toBe(String(seq));
    expect(policiesThen.body).toEqual({ policies: [] });
    expect((await api('GET', '/meshes/default/dataplanes/web-1/_policies')).body.policies[0].origins).toEqual([{ kri: 'kri_mtr_default_default__trace-later_' }]);
    expect((await api('DELETE', '/meshes/default/meshtraces/trace-later')).status).toBe(200);
    expect((await api('DELETE', '/meshes/default/meshtimeouts/web-timeout')).status).toBe(200);
  });

  it('refuses a malformed or future point with a 400 naming `at`, and a proxy that did not exist then with 404', async () => {
    for (const path of ['_config', '_rules', '_policies']) {
      const bad = await api('GET', `/meshes/default/dataplanes/web-1/${path}?at=yesterday`);
      expect(bad.status).toBe(400);
      expect(bad.body.invalid_parameters[0].field).toBe('at');
      const future = await api('GET', `/meshes/default/dataplanes/web-1/${path}?at=99999999`);
      expect(future.status).toBe(400);
      expect(future.body.invalid_parameters[0].field).toBe('at');
    }
    // Before web-1 was created (the default Mesh and its policies come first).
    const early = await api('GET', `/meshes/default/dataplanes/web-1/_config?at=${firstWebVersion - 1}`);
    expect(early.status).toBe(404);
  });
});

describe('POST /meshes/{mesh}/{plural}/{name}/_preview (impact preview)', () => {
  it('shows the xDS diff of a Dataplane change and stores nothing', async () => {
    const was = await stored();
    const change = web([{ port: 10001, service: 'backend' }, { port: 10002, service: 'other' }, { port: 10003, service: 'third' }]);
    const res = await api('POST', '/meshes/default/dataplanes/web-1/_preview', change);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resource: { type: 'Dataplane', mesh: 'default', name: 'web-1' }, operation: 'update' });
    const webImpact = res.body.proxies.find((p: { name: string }) => p.name === 'web-1');
    expect(webImpact.changed).toBe(true);
    expect(webImpact.changes).toContainEqual({ typeUrl: CLUSTER, name: 'third', op: 'added' });
    expect(webImpact.changes.some((c: { typeUrl: string; op: string; patch?: unknown[] }) => c.typeUrl === LISTENER && c.op === 'added')).toBe(true);
    expect(await stored()).toEqual(was);
  });

  it('lists the proxies a policy selects and their non-empty xDS diff (MeshRateLimit plugin)', async () => {
    const was = await stored();
    const res = await api('POST', '/meshes/default/meshratelimits/rl-backend/_preview', rateLimit(100));
    expect(res.status).toBe(200);
    expect(res.body.operation).toBe('create');
    expect(res.body.proxies.map((p: { name: string }) => p.name)).toEqual(['backend-1', 'backend-2']);
    for (const p of res.body.proxies) {
      expect(p.changed).toBe(true);
      const listener = p.changes.find((c: { typeUrl: string; op: string }) => c.typeUrl === LISTENER && c.op === 'changed');
      expect(JSON.stringify(listener.patch)).toContain('local_ratelimit');
    }
    expect(await stored()).toEqual(was);
  });

  it('lists the proxies a policy selects before or after the change, changed or not', async () => {
    expect((await api('PUT', '/meshes/default/meshratelimits/rl-backend', rateLimit(100))).status).toBe(201);
    const was = await stored();
    const moved = rateLimit(100);
    moved.spec.targetRef.tags = { 'kuma.io/service': 'web' };
    const res = await api('POST', '/meshes/default/meshratelimits/rl-backend/_preview', moved);
    expect(res.status).toBe(200);
    expect(res.body.operation).toBe('update');
    expect(res.body.proxies.map((p: { name: string; changed: boolean }) => [p.name, p.changed])).toEqual([
      ['backend-1', true],
      ['backend-2', true],
      ['web-1', true],
    ]);
    // The selected proxies are listed whether or not their configuration changes: backend-1 and
    // backend-2 have no outbound, so a MeshTimeout on their `to` changes nothing for them.
    const timeout = { type: 'MeshTimeout', mesh: 'default', name: 'backend-timeout', spec: { targetRef: { kind: 'MeshSubset', tags: { 'kuma.io/service': 'backend' } }, to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '3s' } }] } };
    const mt = await api('POST', '/meshes/default/meshtimeouts/backend-timeout/_preview', timeout);
    expect(mt.status).toBe(200);
    expect(mt.body.proxies.map((p: { name: string }) => p.name)).toEqual(['backend-1', 'backend-2']);
    expect(mt.body.total).toBe(2);
    expect(mt.body.proxies.map((p: { changed: boolean }) => p.changed)).toEqual([false, false]);
    // On web-1 (which has the outbound to backend), MeshTimeout's plugin sets the cluster's connect timeout.
    const onWeb = await api('POST', '/meshes/default/meshtimeouts/web-timeout/_preview', { ...timeout, name: 'web-timeout', spec: { ...timeout.spec, targetRef: { kind: 'MeshSubset', tags: { 'kuma.io/service': 'web' } } } });
    expect(onWeb.body.proxies.map((p: { name: string; changed: boolean }) => [p.name, p.changed])).toEqual([['web-1', true]]);
    const cluster = onWeb.body.proxies[0].changes.find((c: { typeUrl: string; name: string }) => c.typeUrl === CLUSTER && c.name === 'backend');
    expect(cluster.patch).toEqual([{ op: 'replace', path: '/connect_timeout/seconds', value: 3 }]);
    expect(await stored()).toEqual(was);
    expect((await api('DELETE', '/meshes/default/meshratelimits/rl-backend')).status).toBe(200);
  });

  it('never shows Secret data in past configurations, rules or previews', async () => {
    const data = Buffer.from('s3cr3t-value-for-inspect').toString('base64');
    expect((await api('PUT', '/meshes/default/secrets/inspect-secret', { type: 'Secret', mesh: 'default', name: 'inspect-secret', data })).status).toBe(201);
    const head = Math.max(...((await api('GET', '/_events?size=1000')).body.items as { seq: number }[]).map((e) => e.seq));
    for (const path of [`_config?at=${head}`, `_rules?at=${head}`, '_config', '_rules', '_policies']) {
      const res = await api('GET', `/meshes/default/dataplanes/web-1/${path}`);
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).not.toContain(data);
    }
    const preview = await api('POST', '/meshes/default/dataplanes/web-1/_preview', web([{ port: 10001, service: 'backend' }]));
    expect(JSON.stringify(preview.body)).not.toContain(data);
  });

  it('rejects an invalid policy with the 400 a PUT gives, and stores nothing', async () => {
    const was = await stored();
    const bad = rateLimit(100);
    (bad.spec.targetRef as Record<string, unknown>)['kind'] = 'Frobnicator';
    const preview = await api('POST', '/meshes/default/meshratelimits/rl-backend/_preview', bad);
    const put = await api('PUT', '/meshes/default/meshratelimits/rl-backend', bad);
    expect(preview.status).toBe(400);
    expect(preview.body).toEqual(put.body);
    expect(preview.body.invalid_parameters[0].field).toMatch(/^spec\.targetRef/);
    expect(await stored()).toEqual(was);
    const garbage = await http(cp.url, 'POST', '/meshes/default/meshratelimits/rl-backend/_preview', '{not json', { 'content-type': 'application/json' });
    expect(garbage.status).toBe(400);
    expect((await api('POST', '/meshes/nope/meshratelimits/rl-backend/_preview', rateLimit(1))).status).toBe(404);
    expect(await stored()).toEqual(was);
    // The process is still up.
    expect((await api('GET', '/')).status).toBe(200);
  });
});
