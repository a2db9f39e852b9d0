import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { callGreeterOnce } from '../../libs/testkit/grpc-apps.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { dataplaneTokenFile, grpcDataplane, spawnKumaDp, startGreeterPair, until } from '../../libs/testkit/kuma-dp.ts';
import { freePort } from '../../libs/testkit/ports.ts';

/**
 * Kuma 2.x workload identity end to end: a mesh without `mtls` and a Bundled MeshIdentity that
 * selects every Dataplane. Two real proxyless gRPC applications under `kuma-dp run --proxyless`
 * get certificates whose one SAN is the SPIFFE ID from the identity's trust domain, trust the
 * MeshTrust the identity created, call each other over mTLS, and MeshTrafficPermission `rules`
 * authorize by those SPIFFE IDs (with an identity, `from` is ignored, as Kuma).
 */
let cp: KumaCpProcess;
let dir: string;
let clientBootstrap: string;
const procs: ChildProcess[] = [];
const TD = 'default.default.mesh.local';

const kumaDp = (args: string[]) => {
  const p = spawnKumaDp(cp, dir, args, { TMPDIR: dir, KUMA_DATAPLANE_TRUST_REFRESH_INTERVAL: '1' });
  procs.push(p);
  return p;
};

const callThroughMesh = () => callGreeterOnce(clientBootstrap);

const permission = (rules: Record<string, unknown>[]) =>
  http(cp.url, 'PUT', '/meshes/default/meshtrafficpermissions/greeter-callers', { type: 'MeshTrafficPermission', mesh: 'default', name: 'greeter-callers', spec: { targetRef: { kind: 'MeshService', name: 'greeter' }, rules } });

let caller: ReturnType<typeof kumaDp>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mesh-identity-'));
  cp = await KumaCpProcess.start({ env: { KUMA_STORE_TYPE: 'memory' } });
  expect((await http(cp.url, 'PUT', '/meshes/default/meshidentities/all', { type: 'MeshIdentity', mesh: 'default', name: 'all', spec: { selector: { dataplane: { matchLabels: {} } }, provider: { type: 'Bundled', bundled: { autogenerate: { enabled: true } } } } })).status).toBe(201);
  expect((await permission([{ default: { allow: [{ spiffeID: { type: 'Exact', value: `spiffe://${TD}/workload/caller` } }] } }])).status).toBe(201);
  ({ caller, clientBootstrap } = await startGreeterPair(cp, dir, kumaDp, freePort));
}, 90_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await cp?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('MeshIdentity: proxyless gRPC over mTLS by SPIFFE ID (real grpc-js-xds under kuma-dp)', () => {
  it("issues each proxy its identity's SPIFFE ID, and calls succeed over mTLS in a mesh without mtls", async () => {
    await until(async () => (await callThroughMesh()) === 'hello from greeter-1', 30_000, () => `a call: ${caller.output().slice(-1500)}\n--- kuma-cp ---\n${cp.output.slice(-3000)}`);
    const files = JSON.parse(readFileSync(clientBootstrap, 'utf8')).certificate_providers.kuma.config;
    expect(new X509Certificate(readFileSync(files.certificate_file)).subjectAltName).toBe(`URI:spiffe://${TD}/workload/caller`);
    // The CA the caller trusts is the one in the MeshTrust the identity created.
    const trust = (await http(cp.url, 'GET', '/meshes/default/meshtrusts/all')).body;
    expect(readFileSync(files.ca_certificate_file, 'utf8')).toContain(trust.spec.caBundles[0].pem.value.trim());
    const config = (await http(cp.url, 'GET', '/meshes/default/dataplanes/caller-1/_config')).body.xds;
    const san = config['type.googleapis.com/envoy.config.cluster.v3.Cluster'].greeter.transport_socket.typed_config.common_tls_context.validation_context.match_subject_alt_names;
    expect(san).toEqual(expect.arrayContaining([{ exact: `spiffe://${TD}/workload/greeter` }]));
  }, 60_000);

  it('authorizes by SPIFFE ID with MeshTrafficPermission rules, live, and ignores from[]', async () => {
    expect((await permission([{ default: { deny: [{ spiffeID: { type: 'Prefix', value: `spiffe://${TD}/workload/` } }] } }])).status).toBe(200);
    await until(async () => /^error: 7 PERMISSION_DENIED/.test(await callThroughMesh()), 30_000, () => 'a call denied by SPIFFE ID');
    // from[] allowing the caller's service: Kuma ignores it for a proxy with a MeshIdentity.
    const from = await http(cp.url, 'PUT', '/meshes/default/meshtrafficpermissions/greeter-callers', {
      type: 'MeshTrafficPermission',
      mesh: 'default',
      name: 'greeter-callers',
      spec: { targetRef: { kind: 'MeshService', name: 'greeter' }, from: [{ targetRef: { kind: 'Mesh' }, default: { action: 'Allow' } }] },
    });
    expect(from.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await callThroughMesh()).toMatch(/^error: 7 PERMISSION_DENIED/);
    expect((await permission([{ default: { allow: [{ spiffeID: { type: 'Prefix', value: `spiffe://${TD}/` } }] } }])).status).toBe(200);
    await until(async () => (await callThroughMesh()) === 'hello from greeter-1', 30_000, () => 'an allowed call again');
  }, 120_000);

  it('serves a client that asks for the service by name (no outbound declared) the same mTLS', async () => {
    writeFileSync(join(dir, 'client2.yaml'), stringify(grpcDataplane('caller-2', await freePort(), 'caller2')));
    const bootstrap = join(dir, 'client2-bootstrap.json');
    const p = kumaDp(['--proxyless', '--dataplane-file', join(dir, 'client2.yaml'), '--dataplane-token-file', await dataplaneTokenFile(cp, dir, 'caller-2'), '--ca-cert-file', cp.caCertFile, '--grpc-bootstrap-file', bootstrap]);
    await until(() => existsSync(bootstrap), 20_000, () => `client bootstrap (${p.output()})`);
    await until(async () => (await callGreeterOnce(bootstrap)) === 'hello from greeter-1', 30_000, () => `a call by name: ${p.output().slice(-1500)}`);
  }, 60_000);
});
