import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { xdsGreeterClientFromBootstrap } from '../../libs/testkit/grpc-apps.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess, REPO_ROOT } from '../../libs/testkit/kuma-cp.ts';
import { dataplaneTokenFile, grpcDataplane, spawnKumaDp, until } from '../../libs/testkit/kuma-dp.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { strictDiffType } from '../../libs/xds/resource.ts';

let cp: KumaCpProcess;
let dir: string;
const procs: ChildProcess[] = [];

const dataplane = grpcDataplane;
const tokenFile = (name: string) => dataplaneTokenFile(cp, dir, name);

const kumaDp = (args: string[], env: Record<string, string> = {}) => {
  const p = spawnKumaDp(cp, dir, args, env);
  procs.push(p);
  return p;
};

const cpTail = () => cp.output.split('\n').slice(-40).join('\n');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kuma-dp-test-'));
  cp = await KumaCpProcess.start({ env: { KUMA_STORE_TYPE: 'memory', KUMA_XDS_DATAPLANE_DEREGISTRATION_DELAY: '1s' } });
}, 60_000);
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await cp?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('kuma-dp', () => {
  it('proxyless: registers both sides over TLS + token, runs the app with GRPC_XDS_BOOTSTRAP, and deregisters after exit', async () => {
    const port = await freePort();
    writeFileSync(join(dir, 'backend.yaml'), stringify(dataplane('greeter-1', port, 'greeter')));
    writeFileSync(join(dir, 'client.yaml'), stringify(dataplane('caller-1', await freePort(), 'caller', { outbound: [{ port: 10001, tags: { 'kuma.io/service': 'greeter' } }] })));
    const backend = kumaDp([
      '--proxyless', '--dataplane-file', join(dir, 'backend.yaml'), '--dataplane-token-file', await tokenFile('greeter-1'), '--ca-cert-file', cp.caCertFile,
      '--', process.execPath, join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(REPO_ROOT, 'test/e2e/fixtures/greeter-app.ts'), String(port), 'greeter-1',
    ]);
    const clientBootstrap = join(dir, 'client-bootstrap.json');
    const caller = kumaDp([
      '--proxyless', '--dataplane-file', join(dir, 'client.yaml'), '--dataplane-token-file', await tokenFile('caller-1'), '--ca-cert-file', cp.caCertFile,
      '--grpc-bootstrap-file', clientBootstrap,
    ]);
    await until(() => existsSync(clientBootstrap), 20_000, () => `client bootstrap (${caller.output()})`);
    await until(async () => (await http(cp.url, 'GET', '/meshes/default/dataplanes/greeter-1')).status === 200, 20_000, () => `registration (${backend.output()})`);
    await until(() => backend.output().includes('greeter greeter-1 serving on'), 40_000, () => `the backend serving (${backend.output()}\n--- kuma-cp ---\n${cpTail()})`);
    // A fresh client per attempt: a failed attempt must not leave the next one waiting out gRPC's reconnect backoff.
    await until(async () => {
      const client = xdsGreeterClientFromBootstrap(readFileSync(clientBootstrap, 'utf8'), 'greeter');
      try {
        return (await client.hello().catch(() => '')) === 'hello from greeter-1';
      } finally {
        client.close();
      }
    }, 30_000, () => `a call through the mesh (${caller.output()}\n--- kuma-cp ---\n${cpTail()})`);
    const registered = (await http(cp.url, 'GET', '/meshes/default/dataplanes+insights?name=greeter-1')).body.items[0];
    expect(registered.dataplaneInsight.subscriptions.at(-1).version.kumaDp.version).toBe('2.14.0');
    // Connected proxies are Online in Kuma's status filter (list_dp_overview_status_filter).
    // (The status of a stream is recorded asynchronously: wait for it rather than read it once. The
    // caller's relay holds its stream only while an application is connected to it, so only the
    // backend, whose application runs throughout, is certain to be Online here.)
    const online = async () => (await http(cp.url, 'GET', '/meshes/default/dataplanes/_overview?filter[status]=online')).body.items.map((i: { name: string }) => i.name) as string[];
    await until(async () => (await online()).includes('greeter-1'), 10_000, 'the backend online');
    const offline = (await http(cp.url, 'GET', '/meshes/default/dataplanes/_overview?filter[status]=Offline')).body.items.map((i: { name: string }) => i.name);
    expect(offline).not.toContain('greeter-1');
    backend.kill('SIGTERM');
    expect(await backend.exited).toBe(0);
    await until(async () => (await http(cp.url, 'GET', '/meshes/default/dataplanes/greeter-1')).status === 404, 15_000, 'deregistration');
    caller.kill('SIGTERM');
    expect(await caller.exited).toBe(0);
  }, 90_000);

  it('envoy: writes a valid Envoy bootstrap, forwards SIGTERM, and propagates exit codes', async () => {
    const record = join(dir, 'recorded-bootstrap.json');
    writeFileSync(join(dir, 'envoy-dp.yaml'), stringify(dataplane('envoy-1', await freePort(), 'web')));
    const common = ['--dataplane-file', join(dir, 'envoy-dp.yaml'), '--dataplane-token-file', await tokenFile('envoy-1'), '--ca-cert-file', cp.caCertFile, '--binary-path', join(REPO_ROOT, 'test/e2e/fixtures/fake-envoy.mjs')];
    const dp = kumaDp(common, { FAKE_ENVOY_RECORD: record });
    await until(() => existsSync(record), 20_000, () => `bootstrap (${dp.output()})`);
    const bootstrap = JSON.parse(readFileSync(record, 'utf8'));
    expect(strictDiffType('envoy.config.bootstrap.v3.Bootstrap', bootstrap)).toEqual([]);
    expect(bootstrap.node.id).toBe('default.envoy-1');
    expect(bootstrap.dynamic_resources.ads_config.grpc_services[0].initial_metadata[0].key).toBe('authorization');
    expect(JSON.parse(bootstrap.node.metadata['dataplane.resource']).name).toBe('envoy-1');
    dp.kill('SIGTERM');
    expect(await dp.exited).toBe(0);
    const failing = kumaDp([...common, '--max-restarts', '0'], { FAKE_ENVOY_EXIT: '3' });
    expect(await failing.exited).toBe(3);
  }, 60_000);

  it.each([
    ['an untrusted control plane certificate', ['--name', 'x', '--mesh', 'default'], /could not reach the control plane.*(self.signed|certificate)/i],
    ['a missing token', ['--name', 'envoy-1', '--mesh', 'default', '--ca-cert-file', 'CA'], /\(401\): dataplane token is required/],
    ['an unknown Dataplane without --dataplane-file', ['--name', 'ghost', '--mesh', 'default', '--ca-cert-file', 'CA', '--dataplane-token', 'TOKEN'], /\(422\): Dataplane entity not found/],
  ])('fails clearly on %s', async (_, args, message) => {
    const resolved = await Promise.all(args.map(async (a) => (a === 'CA' ? cp.caCertFile : a === 'TOKEN' ? readFileSync(await tokenFile('ghost'), 'utf8') : a)));
    const dp = kumaDp([...resolved, '--binary-path', join(REPO_ROOT, 'test/e2e/fixtures/fake-envoy.mjs')]);
    expect(await dp.exited).toBe(2);
    expect(dp.output()).toMatch(message);
  }, 30_000);
});
