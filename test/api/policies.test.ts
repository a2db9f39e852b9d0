import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { kumactlWithConfig } from '../../libs/testkit/kumactl.ts';

let cp: KumaCpProcess;
let dir: string;
const api = (method: string, path: string, body?: unknown) => http(cp.url, method, path, body);
const kumactl = (args: string[], stdin?: string) => kumactlWithConfig(join(dir, 'config'), dir, args, stdin);

const PLURALS = [
  'meshtrafficpermissions',
  'meshtimeouts',
  'meshretries',
  'meshhttproutes',
  'meshtcproutes',
  'meshhealthchecks',
  'meshcircuitbreakers',
  'meshloadbalancingstrategies',
  'meshfaultinjections',
  'meshratelimits',
  'meshaccesslogs',
  'meshtraces',
  'meshmetrics',
  'meshproxypatches',
  'meshpassthroughs',
  'meshtlses',
];

const DEFAULT_NAMES = (mesh: string) => [
  `MeshCircuitBreaker/mesh-circuit-breaker-all-${mesh}`,
  `MeshRetry/mesh-retry-all-${mesh}`,
  `MeshTimeout/mesh-gateways-timeout-all-${mesh}`,
  `MeshTimeout/mesh-timeout-all-${mesh}`,
];

/** Every policy of a mesh as `Type/name`, sorted. */
async function policiesOf(mesh: string): Promise<string[]> {
  const out: string[] = [];
  for (const plural of PLURALS) {
    const res = await api('GET', `/meshes/${mesh}/${plural}?size=1000`);
    expect(res.status).toBe(200);
    for (const item of res.body.items as { type: string; name: string }[]) out.push(`${item.type}/${item.name}`);
  }
  return out.sort();
}

/** Every policy everywhere, with versions: a rejected write must leave this unchanged. */
async function snapshot(): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const plural of PLURALS) out[plural] = (await api('GET', `/${plural}?size=1000`)).body.items;
  return out;
}

const timeout = (name: string, spec: unknown, mesh = 'default') => ({ type: 'MeshTimeout', mesh, name, spec });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kumactl-policies-'));
  cp = await KumaCpProcess.start();
  const added = await kumactl(['config', 'control-planes', 'add', '--name', 'test', '--address', cp.url]);
  expect(added.stderr).toBe('');
});
afterAll(async () => {
  await cp?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('policies over REST', () => {
  it("creates Kuma's default policies with the default Mesh, with Kuma's labels and KRIs", async () => {
    expect(await policiesOf('default')).toEqual(DEFAULT_NAMES('default'));
    const mt = await api('GET', '/meshes/default/meshtimeouts/mesh-timeout-all-default');
    expect(mt.status).toBe(200);
    expect(mt.body).toMatchObject({
      type: 'MeshTimeout',
      mesh: 'default',
      name: 'mesh-timeout-all-default',
      labels: { 'kuma.io/mesh': 'default', 'kuma.io/origin': 'zone', 'kuma.io/zone': 'default', 'kuma.io/env': 'universal' },
      kri: 'kri_mt_default_default__mesh-timeout-all-default_',
      spec: {
        targetRef: { kind: 'Mesh', proxyTypes: ['Sidecar'] },
        from: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '10s', idleTimeout: '2h', http: { requestTimeout: '0s', streamIdleTimeout: '1h', maxStreamDuration: '0s' } } }],
        to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '5s', idleTimeout: '1h', http: { requestTimeout: '15s', streamIdleTimeout: '30m' } } }],
      },
    });
    const retry = await api('GET', '/meshes/default/meshretries/mesh-retry-all-default');
    expect(retry.body.spec.to[0].default).toEqual({
      tcp: { maxConnectAttempt: 5 },
      http: { numRetries: 5, perTryTimeout: '16s', backOff: { baseInterval: '25ms', maxInterval: '250ms' } },
      grpc: { numRetries: 5, perTryTimeout: '16s', backOff: { baseInterval: '25ms', maxInterval: '250ms' } },
    });
  });

  it('creates the defaults with a new Mesh in the same batch, honours skipCreatingInitialPolicies, and never recreates a deleted one', async () => {
    expect((await api('PUT', '/meshes/m1', { type: 'Mesh', name: 'm1' })).status).toBe(201);
    expect(await policiesOf('m1')).toEqual(DEFAULT_NAMES('m1'));
    // The Mesh and its defaults are consecutive events of one batch.
    const versions = [
      (await api('GET', '/meshes/m1')).headers.get('etag'),
      ...(await Promise.all(DEFAULT_NAMES('m1').map(async (k) => {
        const [type, name] = k.split('/');
        const plural = ({ MeshCircuitBreaker: 'meshcircuitbreakers', MeshRetry: 'meshretries', MeshTimeout: 'meshtimeouts' } as Record<string, string>)[type!];
        return (await api('GET', `/meshes/m1/${plural}/${name}`)).headers.get('etag');
      }))),
    ].map((e) => Number(String(e).replace(/\D/g, '')));
    const sorted = [...versions].sort((a, b) => a - b);
    expect(sorted.at(-1)! - sorted[0]!).toBe(4);
    expect(sorted[0]).toBe(versions[0]); // the Mesh first

    expect((await api('DELETE', '/meshes/m1/meshretries/mesh-retry-all-m1')).status).toBe(200);
    expect((await api('PUT', '/meshes/m1', { type: 'Mesh', name: 'm1', mtls: { backends: [] } })).status).toBe(200);
    expect(await policiesOf('m1')).toEqual(DEFAULT_NAMES('m1').filter((n) => !n.startsWith('MeshRetry/')));

    expect((await api('PUT', '/meshes/m2', { type: 'Mesh', name: 'm2', skipCreatingInitialPolicies: ['MeshTimeout', 'MeshRetry'] })).status).toBe(201);
    expect(await policiesOf('m2')).toEqual(['MeshCircuitBreaker/mesh-circuit-breaker-all-m2']);
    expect((await api('PUT', '/meshes/m3', { type: 'Mesh', name: 'm3', skipCreatingInitialPolicies: ['*'] })).status).toBe(201);
    expect(await policiesOf('m3')).toEqual([]);

    const bad = await api('PUT', '/meshes/m4', { type: 'Mesh', name: 'm4', skipCreatingInitialPolicies: ['MeshRetry', 7] });
    expect(bad.status).toBe(400);
    expect(bad.body.invalid_parameters).toEqual([{ field: 'skipCreatingInitialPolicies[1]', reason: 'must be a string' }]);
    expect((await api('GET', '/meshes/m4')).status).toBe(404);
  });

  it('does not recreate a deleted default of the default Mesh when kuma-cp restarts', async () => {
    expect((await api('DELETE', '/meshes/default/meshcircuitbreakers/mesh-circuit-breaker-all-default')).status).toBe(200);
    await cp.stop();
    await cp.restart();
    expect(await policiesOf('default')).toEqual(DEFAULT_NAMES('default').filter((n) => !n.startsWith('MeshCircuitBreaker/')));
  });

  it('serves every type at /meshes/{mesh}/{plural} and /{plural}, with create, update, read and delete', async () => {
    for (const plural of PLURALS) {
      const list = await api('GET', `/${plural}`);
      expect(list.status, plural).toBe(200);
      expect(list.body).toMatchObject({ items: expect.any(Array) });
    }
    const spec = { targetRef: { kind: 'MeshService', name: 'backend' }, to: [{ targetRef: { kind: 'MeshService', name: 'db' }, default: { http: { requestTimeout: '1h30m' } } }] };
    expect((await api('PUT', '/meshes/default/meshtimeouts/t1', timeout('t1', spec))).status).toBe(201);
    expect((await api('PUT', '/meshes/default/meshtimeouts/t1', timeout('t1', { ...spec, to: [{ ...spec.to[0], default: { idleTimeout: '500ms' } }] }))).status).toBe(200);
    const got = await api('GET', '/meshes/default/meshtimeouts/t1');
    expect(got.body).toMatchObject({ kri: 'kri_mt_default_default__t1_', spec: { to: [{ default: { idleTimeout: '500ms' } }] } });
    const across = await api('GET', '/meshtimeouts');
    expect((across.body.items as { mesh: string; name: string }[]).map((i) => `${i.mesh}/${i.name}`)).toContain('default/t1');
    const byKri = await api('GET', '/_kri/kri_mt_default_default__t1_');
    expect(byKri.status).toBe(200);
    expect(byKri.body.name).toBe('t1');
    expect((await api('DELETE', '/meshes/default/meshtimeouts/t1')).status).toBe(200);
    expect((await api('GET', '/meshes/default/meshtimeouts/t1')).status).toBe(404);
  });

  describe('rejects hostile specs with a precise 400, Kuma field paths, and nothing stored', () => {
    const cases: [string, string, unknown, { field: string; reason: string }[]][] = [
      [
        'a targetRef kind not allowed in its section',
        'meshtimeouts',
        timeout('bad', { targetRef: { kind: 'Mesh' }, from: [{ targetRef: { kind: 'MeshService', name: 'x' }, default: { idleTimeout: '1s' } }] }),
        [{ field: 'spec.from[0].targetRef.kind', reason: 'value is not supported' }],
      ],
      [
        'rules mixed with to',
        'meshtimeouts',
        timeout('bad', { rules: [{ default: { idleTimeout: '1s' } }], to: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: '1s' } }] }),
        [{ field: 'spec', reason: "fields 'to' and 'from' must be empty when 'rules' is defined" }],
      ],
      [
        'an unknown field',
        'meshtimeouts',
        timeout('bad', { to: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: '1s', retries: 3 } }] }),
        [{ field: 'spec.to[0].default.retries', reason: 'unknown field' }],
      ],
      [
        'a malformed duration',
        'meshtimeouts',
        timeout('bad', { to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '5 minutes' } }] }),
        [{ field: 'spec.to[0].default.connectionTimeout', reason: 'time: unknown unit " minutes" in duration "5 minutes"' }],
      ],
      [
        'a malformed percentage',
        'meshfaultinjections',
        {
          type: 'MeshFaultInjection',
          mesh: 'default',
          name: 'bad',
          spec: { targetRef: { kind: 'MeshService', name: 'b' }, from: [{ targetRef: { kind: 'Mesh' }, default: { http: [{ abort: { httpStatus: 503, percentage: 'half' } }, { delay: { value: '1s', percentage: 150 } }] } }] },
        },
        [
          { field: 'spec.from[0].default.http.abort[0].percentage', reason: 'string must be a valid number' },
          { field: 'spec.from[0].default.http.delay[1].percentage', reason: 'must be in inclusive range [0.0, 100.0]' },
        ],
      ],
      [
        'an affinity tag weight of zero',
        'meshloadbalancingstrategies',
        {
          type: 'MeshLoadBalancingStrategy',
          mesh: 'default',
          name: 'bad',
          spec: { to: [{ targetRef: { kind: 'Mesh' }, default: { localityAwareness: { localZone: { affinityTags: [{ key: 'k8s.io/node', weight: 0 }] } } } }] },
        },
        [{ field: 'spec.to[0].default.localityAwareness.localZone.affinityTags[0].weight', reason: 'must be greater than 0' }],
      ],
      [
        'a negative route weight',
        'meshhttproutes',
        {
          type: 'MeshHTTPRoute',
          mesh: 'default',
          name: 'bad',
          spec: { to: [{ targetRef: { kind: 'MeshService', name: 'b' }, rules: [{ default: { backendRefs: [{ kind: 'MeshService', name: 'b', weight: -5 }] } }] }] },
        },
        [{ field: 'spec.to[0].rules[0].default.backendRefs[0].weight', reason: 'must be a non-negative integer' }],
      ],
      [
        'a field next to spec',
        'meshretries',
        { type: 'MeshRetry', mesh: 'default', name: 'bad', to: [], spec: { to: [{ targetRef: { kind: 'Mesh' }, default: { tcp: { maxConnectAttempt: 1 } } }] } },
        [{ field: 'to', reason: 'unknown field' }],
      ],
    ];
    for (const [what, plural, body, expected] of cases) {
      it(what, async () => {
        const before = await snapshot();
        const res = await api('PUT', `/meshes/default/${plural}/bad`, body);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ title: 'Could not process a resource', detail: 'Resource is not valid' });
        expect(res.body.invalid_parameters).toEqual(expected);
        expect(await snapshot()).toEqual(before);
        expect((await api('GET', '/')).status).toBe(200);
      });
    }
    it('a policy in a Mesh that does not exist', async () => {
      const res = await api('PUT', '/meshes/nope/meshtimeouts/t', timeout('t', { to: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: '1s' } }] }, 'nope'));
      expect(res.status).toBe(404);
    });
  });
});

describe('policies with kumactl', () => {
  it("lists and shows policies with Kuma's columns (MESH NAME AGE)", async () => {
    const list = await kumactl(['get', 'meshtimeouts', '--mesh', 'default']);
    expect(list.stderr).toBe('');
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MESH\s+NAME\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'default mesh-gateways-timeout-all-default',
      'default mesh-timeout-all-default',
    ]);
    const one = await kumactl(['get', 'meshretry', 'mesh-retry-all-default', '--mesh', 'default']);
    expect(one.stdout).toMatch(/^MESH\s+NAME\s+AGE\ndefault\s+mesh-retry-all-default\s+\d+[smhd]\n$/);
    const yaml = await kumactl(['get', 'meshretry', 'mesh-retry-all-default', '--mesh', 'default', '-o', 'yaml']);
    expect(yaml.stdout).toContain('kri: kri_mr_default_default__mesh-retry-all-default_');
    expect(yaml.stdout).toContain('maxConnectAttempt: 5');
  });

  it('applies a policy from YAML and rejects a bad one with the field path', async () => {
    const good = await kumactl(['apply', '-f', '-'], `
type: MeshHTTPRoute
mesh: default
name: split
spec:
  targetRef: {kind: Mesh}
  to:
    - targetRef: {kind: MeshService, name: backend}
      rules:
        - matches: [{path: {type: PathPrefix, value: /api}}]
          default:
            backendRefs: [{kind: MeshService, name: backend, weight: 90}, {kind: MeshService, name: backend-v2, weight: 10}]
`);
    expect(good.stderr).toBe('');
    expect((await kumactl(['get', 'meshhttproutes'])).stdout).toMatch(/default\s+split\s+\d+s/);
    const bad = await kumactl(['apply', '-f', '-'], `
type: MeshRetry
mesh: default
name: bad-retry
spec:
  to:
    - targetRef: {kind: MeshSubset, tags: {a: b}}
      default: {http: {retryOn: [teapot]}}
`);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.to[0].targetRef.kind');
    expect(bad.stderr).toContain("unknown item 'teapot'");
    expect((await api('GET', '/meshes/default/meshretries/bad-retry')).status).toBe(404);
  });
});
