import type { ChildProcess } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createBuiltinCa, createWorkloadCsr, LoadedCa } from '../../libs/ca/builtin-ca.ts';
import { callGreeterOnce, directGreeterClient } from '../../libs/testkit/grpc-apps.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess, REPO_ROOT } from '../../libs/testkit/kuma-cp.ts';
import { dataplaneTokenFile, grpcDataplane, spawnKumaDp, startGreeterPair, until } from '../../libs/testkit/kuma-dp.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { decodeResponse, encodeRequest } from '../../libs/xds/ads-codec.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { rawStreams } from '../../services/kuma-dp/raw-grpc.ts';
import { decodeToObject, strictDiffType } from '../../libs/xds/resource.ts';

/**
 * Mutual TLS between two real proxyless gRPC applications, each under `kuma-dp run --proxyless`
 * against a real kuma-cp with a builtin CA: kuma-dp makes the key, has the CSR signed and writes
 * the files grpc-js-xds' `file_watcher` provider reads; the control plane's clusters and server
 * listeners name that provider. A call through the mesh succeeds; a client without the mesh's
 * certificate (plaintext, or TLS with a certificate from another CA) cannot get an answer.
 */
let cp: KumaCpProcess;
let dir: string;
let backendPort: number;
let clientBootstrap: string;
const procs: ChildProcess[] = [];

const dataplane = grpcDataplane;
const tokenFile = (name: string) => dataplaneTokenFile(cp, dir, name);

const kumaDp = (args: string[], env: Record<string, string> = {}) => {
  const p = spawnKumaDp(cp, dir, args, { TMPDIR: dir, KUMA_DATAPLANE_TRUST_REFRESH_INTERVAL: '1', ...env });
  procs.push(p);
  return p;
};

const callThroughMesh = () => callGreeterOnce(clientBootstrap);

const allowAll = (method: 'PUT' | 'DELETE') =>
  http(cp.url, method, '/meshes/default/meshtrafficpermissions/allow-all', method === 'PUT' ? { type: 'MeshTrafficPermission', mesh: 'default', name: 'allow-all', spec: { targetRef: { kind: 'Mesh' }, from: [{ targetRef: { kind: 'Mesh' }, default: { action: 'Allow' } }] } } : undefined);

let backend: ReturnType<typeof kumaDp>;
let caller: ReturnType<typeof kumaDp>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mtls-proxyless-'));
  cp = await KumaCpProcess.start({ env: { KUMA_STORE_TYPE: 'memory' } });
  expect((await http(cp.url, 'PUT', '/meshes/default', { type: 'Mesh', name: 'default', mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } })).status).toBe(200);
  // With mTLS on, Kuma denies every call that no MeshTrafficPermission allows: the mesh-wide allow Kuma users start with.
  expect((await allowAll('PUT')).status).toBe(201);
  ({ backend, caller, clientBootstrap, backendPort } = await startGreeterPair(cp, dir, kumaDp, freePort));
}, 90_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await cp?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('proxyless gRPC over mTLS (real grpc-js-xds under kuma-dp)', () => {
  it('calls succeed through the mesh over mTLS', async () => {
    await until(async () => (await callThroughMesh()) === 'hello from greeter-1', 30_000, () => `a call through the mesh: last ${caller.output().slice(-1500)}\n--- kuma-cp ---\n${cp.output.slice(-3000)}`);
  }, 60_000);

  it('serves the workload certificate from files kuma-dp wrote, the key readable by its user only and never seen by the control plane', async () => {
    const bootstrap = JSON.parse(readFileSync(clientBootstrap, 'utf8'));
    const files = bootstrap.certificate_providers.kuma.config;
    expect(bootstrap.certificate_providers.kuma.plugin_name).toBe('file_watcher');
    expect(statSync(files.private_key_file).mode & 0o777).toBe(0o600);
    expect(readFileSync(files.certificate_file, 'utf8')).toMatch(/BEGIN CERTIFICATE/);
    expect(cp.output).not.toMatch(/PRIVATE KEY/);
    const caller = await http(cp.url, 'GET', '/meshes/default/dataplanes/caller-1/_config');
    const cluster = caller.body.xds['type.googleapis.com/envoy.config.cluster.v3.Cluster']['greeter'];
    expect(cluster.transport_socket.typed_config.common_tls_context.tls_certificate_provider_instance.instance_name).toBe('kuma');
    const config = await http(cp.url, 'GET', '/meshes/default/dataplanes/greeter-1/_config');
    const server = config.body.xds['type.googleapis.com/envoy.config.listener.v3.Listener'][`kuma.io/grpc/inbound/127.0.0.1:${backendPort}`];
    expect(server.filter_chains[0].transport_socket.typed_config).toMatchObject({ require_client_certificate: { value: true }, common_tls_context: { tls_certificate_provider_instance: { instance_name: 'kuma' } } });
  });

  it('enforces MeshTrafficPermission on the server (RBAC): a denied call fails with PERMISSION_DENIED, and a change takes effect without a restart', async () => {
    const mtp = (spec: Record<string, unknown>) => http(cp.url, 'PUT', '/meshes/default/meshtrafficpermissions/greeter-callers', { type: 'MeshTrafficPermission', mesh: 'default', name: 'greeter-callers', spec: { targetRef: { kind: 'MeshService', name: 'greeter' }, ...spec } });
    // Only someone else may call: for the server's service, this permission overrides the mesh-wide
    // allow (Kuma's from[]: the more specific top-level targetRef wins for the same clients).
    const deny = { targetRef: { kind: 'Mesh' }, default: { action: 'Deny' } };
    expect((await mtp({ from: [deny, { targetRef: { kind: 'MeshService', name: 'someone-else' }, default: { action: 'Allow' } }] })).status).toBe(201);
    await until(async () => /^error: 7 PERMISSION_DENIED/.test(await callThroughMesh()), 30_000, () => `a denied call (last: ${cp.output.slice(-1500)})`);
    // The caller's service is allowed.
    expect((await mtp({ from: [deny, { targetRef: { kind: 'MeshService', name: 'caller' }, default: { action: 'Allow' } }] })).status).toBe(200);
    await until(async () => (await callThroughMesh()) === 'hello from greeter-1', 30_000, () => 'an allowed call again');
    // Deny wins over allow.
    expect((await mtp({ rules: [{ default: { allow: [{ spiffeID: { type: 'Prefix', value: 'spiffe://default/' } }], deny: [{ spiffeID: { type: 'Exact', value: 'spiffe://default/caller' } }] } }] })).status).toBe(200);
    await until(async () => /^error: 7 PERMISSION_DENIED/.test(await callThroughMesh()), 30_000, () => 'a call denied by a deny match');
    expect((await http(cp.url, 'DELETE', '/meshes/default/meshtrafficpermissions/greeter-callers')).status).toBe(200);
    await until(async () => (await callThroughMesh()) === 'hello from greeter-1', 30_000, () => 'calls allowed by the mesh-wide permission again');
    // No permission selects the server: with mTLS on, Kuma denies everyone.
    expect((await allowAll('DELETE')).status).toBe(200);
    await until(async () => /^error: 7 PERMISSION_DENIED/.test(await callThroughMesh()), 30_000, () => 'a call denied by default');
    expect((await allowAll('PUT')).status).toBe(201);
    await until(async () => (await callThroughMesh()) === 'hello from greeter-1', 30_000, () => 'calls allowed once more');
  }, 150_000);

  it('rotates the CA without an outage: proxies trust the new CA, renew from it, and keep calling after the old one is deleted', async () => {
    const meshPut = (backend: string) => http(cp.url, 'PUT', '/meshes/default', { type: 'Mesh', name: 'default', mtls: { enabledBackend: backend, backends: [{ name: backend, type: 'builtin' }] } });
    const files = JSON.parse(readFileSync(clientBootstrap, 'utf8')).certificate_providers.kuma.config;
    const before = readFileSync(files.certificate_file, 'utf8');
    expect((await meshPut('ca-2')).status).toBe(200);
    // kuma-dp asks what the mesh trusts every second: first it trusts both CAs, and calls go on...
    await until(() => readFileSync(files.ca_certificate_file, 'utf8').split('BEGIN CERTIFICATE').length === 3, 20_000, () => `both CAs trusted (${caller.output().slice(-1500)})`);
    const calls: string[] = [];
    const renewed = () => readFileSync(files.certificate_file, 'utf8') !== before;
    // ...then, once every proxy trusts the new CA, it renews from it; calls never fail meanwhile.
    const backendRenewed = () => (backend.output().match(/workload certificate issued/g) ?? []).length >= 2;
    const deadline = Date.now() + 40_000;
    while (!(renewed() && backendRenewed())) {
      calls.push(await callThroughMesh());
      if (Date.now() > deadline) throw new Error(`no renewal from ca-2 (${caller.output().slice(-1500)})`);
      await new Promise((r) => setTimeout(r, 250));
    }
    for (let i = 0; i < 8; i++) calls.push(await callThroughMesh());
    expect(calls.filter((c) => c !== 'hello from greeter-1')).toEqual([]);
    const ca2 = new X509Certificate(Buffer.from(((await http(cp.url, 'GET', '/meshes/default/secrets/default.ca-builtin-cert-ca-2')).body as { data: string }).data, 'base64'));
    expect(new X509Certificate(readFileSync(files.certificate_file)).verify(ca2.publicKey)).toBe(true);
    // Once every proxy renewed, the old CA goes.
    for (const n of ['default.ca-builtin-cert-ca-1', 'default.ca-builtin-key-ca-1']) expect((await http(cp.url, 'DELETE', `/meshes/default/secrets/${n}`)).status).toBe(200);
    await until(() => readFileSync(files.ca_certificate_file, 'utf8').split('BEGIN CERTIFICATE').length === 2, 20_000, () => 'the old CA dropped from the bundle');
    await until(async () => (await callThroughMesh()) === 'hello from greeter-1', 30_000, () => 'a call after the old CA is gone');
  }, 120_000);

  it('refuses a client without the mesh certificate: plaintext, or TLS with a certificate from another CA', async () => {
    const plain = directGreeterClient(`127.0.0.1:${backendPort}`);
    await expect(plain.hello(3000)).rejects.toMatchObject({ code: expect.any(Number) });
    plain.close();
    // A certificate for the right identity, from a CA that is not the mesh's.
    const other = await LoadedCa.load(await createBuiltinCa('default'));
    const { csrPem, keyPem } = await createWorkloadCsr(['spiffe://default/caller']);
    const { certPem } = await other.signWorkload(csrPem, ['spiffe://default/caller']);
    const meshCa = readFileSync(JSON.parse(readFileSync(clientBootstrap, 'utf8')).certificate_providers.kuma.config.ca_certificate_file);
    const foreign = directGreeterClient(`127.0.0.1:${backendPort}`, grpc.credentials.createSsl(meshCa, Buffer.from(keyPem), Buffer.from(certPem), { checkServerIdentity: () => undefined }));
    await expect(foreign.hello(3000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    foreign.close();
    // The mesh's own path still works.
    expect(await callThroughMesh()).toBe('hello from greeter-1');
  }, 30_000);
});

const sdsClient = (socketPath: string) =>
  new (grpc.makeGenericClientConstructor(rawStreams('envoy.service.secret.v3.SecretDiscoveryService', ['StreamSecrets']), 'SDS'))(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as {
    StreamSecrets(): grpc.ClientDuplexStream<Buffer, Buffer>;
    close(): void;
  };

/** Bytes that are no DiscoveryRequest: the error the stream ends with. */
async function sdsGarbage(socketPath: string): Promise<string> {
  const client = sdsClient(socketPath);
  const call = client.StreamSecrets();
  try {
    return await new Promise<string>((resolve) => {
      call.on('error', (e: Error) => resolve(e.message));
      call.on('data', () => resolve('answered garbage'));
      // Field 2 (node) claims 5 bytes and has one: no DiscoveryRequest decodes from it.
      call.write(Buffer.from([0x12, 0x05, 0x01]));
    });
  } finally {
    client.close();
  }
}

/** An SDS client (what Envoy does with the bootstrap's kuma:sds cluster): one request, the first response's secrets. */
async function fetchSecrets(socketPath: string, names: string[]): Promise<Record<string, Record<string, unknown>>> {
  const client = sdsClient(socketPath);
  const call = client.StreamSecrets();
  try {
    const res = await new Promise<Record<string, unknown>>((resolve, reject) => {
      call.on('data', (b: Buffer) => resolve(decodeResponse(b)));
      call.on('error', reject);
      call.write(encodeRequest({ node: { id: 'default.web-1' }, type_url: TypeUrl.Secret, resource_names: names }));
    });
    const out: Record<string, Record<string, unknown>> = {};
    for (const any of res['resources'] as { type_url: string; value: Uint8Array }[]) {
      expect(any.type_url).toBe(TypeUrl.Secret);
      const secret = decodeToObject(TypeUrl.Secret, any.value);
      expect(strictDiffType('envoy.extensions.transport_sockets.tls.v3.Secret', secret)).toEqual([]);
      out[secret['name'] as string] = secret;
    }
    return out;
  } finally {
    call.cancel();
    client.close();
  }
}

describe('kuma-dp with Envoy in a mesh with mTLS: the identity over a local SDS socket', () => {
  it("serves Kuma's two secrets to Envoy from kuma-dp's memory, over a socket only its user can open", async () => {
    const record = join(dir, 'envoy-bootstrap.json');
    writeFileSync(join(dir, 'web.yaml'), stringify(dataplane('web-1', await freePort(), 'web')));
    const dp = kumaDp(
      ['--dataplane-file', join(dir, 'web.yaml'), '--dataplane-token-file', await tokenFile('web-1'), '--ca-cert-file', cp.caCertFile, '--binary-path', join(REPO_ROOT, 'test/e2e/fixtures/fake-envoy.mjs')],
      { FAKE_ENVOY_RECORD: record },
    );
    await until(() => existsSync(record), 20_000, () => `the Envoy bootstrap (${dp.output()})`);
    const bootstrap = JSON.parse(readFileSync(record, 'utf8'));
    expect(strictDiffType('envoy.config.bootstrap.v3.Bootstrap', bootstrap)).toEqual([]);
    const sds = bootstrap.static_resources.clusters.find((c: { name: string }) => c.name === 'kuma:sds');
    const socketPath = sds.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.pipe.path as string;
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    const secrets = await fetchSecrets(socketPath, ['identity_cert:secret:default', 'mesh_ca:secret:default']);
    const identity = secrets['identity_cert:secret:default']!['tls_certificate'] as { certificate_chain: { inline_string: string }; private_key: { inline_string: string } };
    const cert = new X509Certificate(identity.certificate_chain.inline_string);
    expect(cert.subjectAltName).toContain('URI:spiffe://default/web');
    expect(cert.checkPrivateKey(createPrivateKey(identity.private_key.inline_string))).toBe(true);
    const ca = new X509Certificate((secrets['mesh_ca:secret:default']!['validation_context'] as { trusted_ca: { inline_string: string } }).trusted_ca.inline_string);
    expect(cert.verify(ca.publicKey)).toBe(true);
    // Garbage on the socket closes that stream only: the server answers the next one.
    expect(await sdsGarbage(socketPath)).toMatch(/invalid DiscoveryRequest/);
    expect(Object.keys(await fetchSecrets(socketPath, ['identity_cert:secret:default'])).sort()).toEqual(['identity_cert:secret:default']);
    // The key was made by kuma-dp: it is in no file and the control plane never saw it.
    expect(cp.output).not.toMatch(/PRIVATE KEY/);
    expect(readFileSync(record, 'utf8')).not.toMatch(/PRIVATE KEY/);
    dp.kill('SIGTERM');
  }, 60_000);
});
