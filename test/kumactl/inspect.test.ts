import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { httpDataplane } from '../../libs/testkit/dataplanes.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { kumactlWithConfig } from '../../libs/testkit/kumactl.ts';

let cp: KumaCpProcess;
let dir: string;
const kumactl = (args: string[], stdin?: string) => kumactlWithConfig(join(dir, 'config'), dir, args, stdin);
const api = (method: string, path: string, body?: unknown) => http(cp.url, method, path, body);

const rateLimit = (num: number) => ({
  type: 'MeshRateLimit',
  mesh: 'default',
  name: 'rl-backend',
  spec: {
    targetRef: { kind: 'MeshSubset', proxyTypes: ['Sidecar'], tags: { 'kuma.io/service': 'backend' } },
    rules: [{ default: { local: { http: { requestRate: { num, interval: '10s' } } } } }],
  },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kumactl-inspect-'));
  cp = await KumaCpProcess.start();
  expect((await kumactl(['config', 'control-planes', 'add', '--name', 'test', '--address', cp.url])).code).toBe(0);
  expect((await api('PUT', '/meshes/default/dataplanes/web-1', httpDataplane('web-1', 8080, 'web', { outbound: [{ port: 10001, tags: { 'kuma.io/service': 'backend' } }] }))).status).toBe(201);
  expect((await api('PUT', '/meshes/default/dataplanes/backend-1', httpDataplane('backend-1', 8081, 'backend'))).status).toBe(201);
  expect((await api('PUT', '/meshes/default/dataplanes/backend-2', httpDataplane('backend-2', 8082, 'backend'))).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await cp?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('kumactl inspect', () => {
  it('inspect dataplane --type policies prints Kind and Origins (Kuma 2.x table)', async () => {
    const trace = { type: 'MeshTrace', mesh: 'default', name: 'trace-all', spec: { targetRef: { kind: 'Mesh' }, default: { backends: [{ type: 'Zipkin', zipkin: { url: 'http://zipkin:9411/api/v2/spans' } }] } } };
    expect((await api('PUT', '/meshes/default/meshtraces/trace-all', trace)).status).toBe(201);
    const res = await kumactl(['inspect', 'dataplane', 'web-1', '--type', 'policies']);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('Kind        Origins\nMeshTrace   kri_mtr_default_default__trace-all_\n');
  });

  it('inspect dataplane --type rules and --type config print the endpoints, and --at reads the past', async () => {
    const rules = await kumactl(['inspect', 'dataplane', 'web-1', '--type', 'rules']);
    expect(rules.code).toBe(0);
    expect(JSON.parse(rules.stdout).rules.map((r: { type: string }) => r.type)).toEqual(['MeshTrace', 'MeshTimeout', 'MeshCircuitBreaker', 'MeshRetry']);
    const config = await kumactl(['inspect', 'dataplane', 'web-1', '--type', 'config']);
    expect(config.code).toBe(0);
    expect(Object.keys(JSON.parse(config.stdout).xds)).toContain('type.googleapis.com/envoy.config.cluster.v3.Cluster');
    const at = (await api('GET', '/meshes/default/dataplanes/web-1')).headers.get('etag')!.replaceAll('"', '');
    const past = await kumactl(['inspect', 'dataplane', 'web-1', '--type', 'rules', '--at', at]);
    expect(past.code).toBe(0);
    // web-1 was created before the MeshTrace.
    expect(JSON.parse(past.stdout).rules.map((r: { type: string }) => r.type)).toEqual(['MeshTimeout', 'MeshCircuitBreaker', 'MeshRetry']);
    const bad = await kumactl(['inspect', 'dataplane', 'web-1', '--type', 'config', '--at', 'soon']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('at');
    const missing = await kumactl(['inspect', 'dataplane', 'nope', '--type', 'rules']);
    expect(missing.code).not.toBe(0);
  });

  it("inspect <policy> prints the data plane proxies it selects, as Kuma's kumactl does", async () => {
    expect((await api('PUT', '/meshes/default/meshratelimits/rl-backend', rateLimit(100))).status).toBe(201);
    const res = await kumactl(['inspect', 'meshratelimit', 'rl-backend']);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('Type        Mesh      Name\nDataplane   default   backend-1\nDataplane   default   backend-2\n\nTotal: 2\n');
    const missing = await kumactl(['inspect', 'meshratelimit', 'nope']);
    expect(missing.code).not.toBe(0);
  });
});

describe('kumactl apply --dry-run', () => {
  it('shows the proxies a policy change would change and their xDS diff, and applies nothing', async () => {
    const events = (await api('GET', '/_events?size=1000')).body;
    const res = await kumactl(['apply', '--dry-run', '-f', '-'], stringify(rateLimit(5)));
    expect(res.code).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toMatch(/^MeshRateLimit "rl-backend" in mesh "default" would be updated \(at log position \d+\): 2 of 2 selected data plane proxies would change$/);
    expect(lines).toContain('  backend-1: 1 xDS resource(s) would change');
    expect(res.stdout).toMatch(/~ Listener inbound:127\.0\.0\.1:8081\n\s+replace \/.*5/);
    const json = JSON.parse((await kumactl(['apply', '--dry-run', '-o', 'json', '-f', '-'], stringify(rateLimit(5)))).stdout);
    expect(json.proxies.map((p: { name: string }) => p.name)).toEqual(['backend-1', 'backend-2']);
    expect((await api('GET', '/_events?size=1000')).body).toEqual(events);
    expect((await api('GET', '/meshes/default/meshratelimits/rl-backend')).body.spec.rules[0].default.local.http.requestRate.num).toBe(100);
  });

  it('refuses an invalid policy with the field path and applies nothing', async () => {
    const events = (await api('GET', '/_events?size=1000')).body;
    const bad = rateLimit(5);
    (bad.spec.rules[0]!.default.local.http.requestRate as { interval: string }).interval = 'ten seconds';
    const res = await kumactl(['apply', '--dry-run', '-f', '-'], stringify(bad));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('spec.rules[0].default.local.http.requestRate.interval');
    expect((await api('GET', '/_events?size=1000')).body).toEqual(events);
  });
});

describe('kumactl delete --dry-run', () => {
  it('shows what deleting a policy or a Dataplane would change, and deletes nothing', async () => {
    const events = (await api('GET', '/_events?size=1000')).body;
    const res = await kumactl(['delete', 'meshratelimit', 'rl-backend', '--dry-run']);
    expect(res.code).toBe(0);
    expect(res.stdout.split('\n')[0]).toMatch(/^MeshRateLimit "rl-backend" in mesh "default" would be deleted \(at log position \d+\): 2 of 2 selected data plane proxies would change$/);
    expect(res.stdout).toMatch(/~ Listener inbound:127\.0\.0\.1:8081\n\s+remove \//);
    // A Dataplane: its own configuration goes, and its service's consumers lose an endpoint.
    const dp = JSON.parse((await kumactl(['delete', 'dataplane', 'backend-1', '--dry-run', '-o', 'json'])).stdout);
    expect(dp.operation).toBe('delete');
    const own = dp.proxies.find((p: { name: string }) => p.name === 'backend-1');
    expect(own.changes.length).toBeGreaterThan(0);
    expect(own.changes.every((c: { op: string }) => c.op === 'removed')).toBe(true);
    expect(dp.proxies.find((p: { name: string }) => p.name === 'web-1')?.changed).toBe(true);
    expect((await api('GET', '/_events?size=1000')).body).toEqual(events);
    expect((await api('GET', '/meshes/default/meshratelimits/rl-backend')).status).toBe(200);
    // What does not exist is refused as a DELETE refuses it; a global type has no preview.
    const missing = await api('DELETE', '/meshes/default/meshratelimits/nope/_preview');
    expect(missing.status).toBe(404);
    expect((await api('DELETE', '/meshes/nope/meshratelimits/rl-backend/_preview')).status).toBe(404);
    const global = await kumactl(['delete', 'mesh', 'default', '--dry-run']);
    expect(global.code).not.toBe(0);
    expect(global.stderr).toContain('--dry-run previews mesh-scoped resources');
    expect((await api('GET', '/_events?size=1000')).body).toEqual(events);
  });

  it('previews a MeshIdentity deletion together with the MeshTrust that goes with it', async () => {
    const identity = { type: 'MeshIdentity', mesh: 'default', name: 'all', spec: { selector: { dataplane: { matchLabels: {} } }, provider: { type: 'Bundled', bundled: { autogenerate: { enabled: true } } } } };
    expect((await api('PUT', '/meshes/default/meshidentities/all', identity)).status).toBe(201);
    const events = (await api('GET', '/_events?size=1000')).body;
    const preview = await api('DELETE', '/meshes/default/meshidentities/all/_preview');
    expect(preview.status).toBe(200);
    // What the DELETE removes with it: the identity's CA secrets and its MeshTrust.
    expect(preview.body.alsoDeletes).toEqual(
      expect.arrayContaining([
        { type: 'MeshTrust', mesh: 'default', name: 'all' },
        { type: 'Secret', mesh: 'default', name: 'all-root-ca' },
        { type: 'Secret', mesh: 'default', name: 'all-private-key' },
      ]),
    );
    const text = await kumactl(['delete', 'meshidentity', 'all', '--dry-run']);
    expect(text.stdout).toContain('  with it: MeshTrust "all"');
    expect((await api('GET', '/_events?size=1000')).body).toEqual(events);
    expect((await api('DELETE', '/meshes/default/meshidentities/all')).status).toBe(200);
  });
});
