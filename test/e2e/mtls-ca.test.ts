import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkloadCsr } from '../../libs/ca/builtin-ca.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { rawRequest } from '../../libs/testkit/raw-http.ts';

/**
 * The builtin CA through a real kuma-cp: a Mesh that enables mTLS gets Kuma's CA Secrets in the
 * same write, a misconfigured backend is a 400 with Kuma's path and writes nothing, and
 * `POST /certificates` on the data plane port signs a CSR for what the dataplane token entitles
 * and nothing more.
 */
let cp: KumaCpProcess;
let dpCa: string;

const mtlsMesh = (name: string, backend = 'ca-1', extra: Record<string, unknown> = {}) => ({
  type: 'Mesh',
  name,
  mtls: { enabledBackend: backend, backends: [{ name: backend, type: 'builtin', ...extra }] },
});
const dataplane = (mesh: string, name: string, service: string) =>
  JSON.stringify({ type: 'Dataplane', mesh, name, networking: { address: '127.0.0.1', inbound: [{ port: 7070, servicePort: 7071, tags: { 'kuma.io/service': service, version: 'v1' } }] } });
const token = async (body: Record<string, unknown>) => {
  const res = await http(cp.url, 'POST', '/tokens/dataplane', body);
  expect(res.status).toBe(200);
  return res.body as string;
};
const certificates = (body: Record<string, unknown>) =>
  rawRequest({ url: `https://localhost:${cp.dpPort}/certificates`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ca: dpCa });
const head = async () => (await http(cp.url, 'GET', '/_events?size=1')).body.range.until as number;
const secretNames = async (mesh: string) => ((await http(cp.url, 'GET', `/meshes/${mesh}/secrets`)).body.items as { name: string }[]).map((s) => s.name).sort();

beforeAll(async () => {
  cp = await KumaCpProcess.start({ plaintext: true, env: { KUMA_STORE_TYPE: 'memory' } });
  dpCa = readFileSync(cp.caCertFile, 'utf8');
});
afterAll(async () => {
  await cp?.destroy();
});

describe('builtin CA', () => {
  it("creates Kuma's CA Secrets with the Mesh, and deletes them with it", async () => {
    expect((await http(cp.url, 'PUT', '/meshes/secure', mtlsMesh('secure'))).status).toBe(201);
    expect(await secretNames('secure')).toEqual(['secure.ca-builtin-cert-ca-1', 'secure.ca-builtin-key-ca-1']);
    const cert = (await http(cp.url, 'GET', '/meshes/secure/secrets/secure.ca-builtin-cert-ca-1')).body as { data: string };
    const x = new X509Certificate(Buffer.from(cert.data, 'base64'));
    expect(x.ca).toBe(true);
    expect(x.subjectAltName).toBe('URI:spiffe://secure');
    // Updating the Mesh keeps the CA: the same certificate.
    expect((await http(cp.url, 'PUT', '/meshes/secure', { ...mtlsMesh('secure'), logging: { backends: [] } })).status).toBe(200);
    expect(((await http(cp.url, 'GET', '/meshes/secure/secrets/secure.ca-builtin-cert-ca-1')).body as { data: string }).data).toBe(cert.data);
    expect((await http(cp.url, 'DELETE', '/meshes/secure')).status).toBe(200);
    expect((await http(cp.url, 'GET', '/meshes/secure/secrets/secure.ca-builtin-cert-ca-1')).status).toBe(404);
  });

  it('refuses a misconfigured CA backend with the field path, and writes nothing', async () => {
    const before = await head();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [mtlsMesh('bad', 'ca-1', { dpCert: { rotation: { expiration: 'soon' } } }), 'mtls.backends[0].dpCert.rotation.expiration', /valid format/],
      [mtlsMesh('bad', 'ca-1', { conf: { caCert: { RSAbits: 512 } } }), 'mtls.backends[0].conf.caCert.RSAbits', /between 2048 and 8192/],
      [mtlsMesh('bad', 'ca-1', { conf: { caCert: { bits: 2048 } } }), 'mtls.backends[0].conf.caCert.bits', /unknown field/],
      [mtlsMesh('bad', 'ca-1', { mode: 'LAX' }), 'mtls.backends[0].mode', /STRICT, PERMISSIVE/],
      [mtlsMesh('bad', 'CA_1'), 'mtls.backends[0].name', /lower case alphanumeric/],
      [{ type: 'Mesh', name: 'bad', mtls: { enabledBackend: 'v', backends: [{ name: 'v', type: 'vault' }] } }, 'mtls.backends[0].type', /not supported by this control plane/],
      [{ type: 'Mesh', name: 'bad', mtls: { enabledBackend: 'p', backends: [{ name: 'p', type: 'provided', conf: { cert: { secret: 'nope' }, key: { secret: 'nope' } } }] } }, 'mtls.backends[0].conf.cert', /does not exist/],
    ];
    for (const [body, field, reason] of cases) {
      const res = await http(cp.url, 'PUT', '/meshes/bad', body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.invalid_parameters).toEqual(expect.arrayContaining([expect.objectContaining({ field, reason: expect.stringMatching(reason) })]));
    }
    expect(await head()).toBe(before);
    expect((await http(cp.url, 'GET', '/meshes/bad')).status).toBe(404);
  });
});

describe('POST /certificates', () => {
  beforeAll(async () => {
    expect((await http(cp.url, 'PUT', '/meshes/demo', mtlsMesh('demo'))).status).toBe(201);
    expect((await http(cp.url, 'PUT', '/meshes/plain', { type: 'Mesh', name: 'plain' })).status).toBe(201);
  });

  it("signs a CSR with Kuma's SANs for the token's Dataplane, valid 24 h, with the mesh's CA bundle", async () => {
    const t = await token({ name: 'web-1', mesh: 'demo' });
    const { csrPem } = await createWorkloadCsr(['spiffe://demo/web']);
    const res = await certificates({ mesh: 'demo', name: 'web-1', dataplaneToken: t, dataplaneResource: dataplane('demo', 'web-1', 'web'), csr: csrPem });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const cert = new X509Certificate(res.body.certificate);
    expect(cert.subjectAltName).toBe('URI:spiffe://demo/web, URI:kuma://kuma.io/service/web, URI:kuma://version/v1');
    const ca = new X509Certificate(res.body.caBundle);
    expect(cert.verify(ca.publicKey)).toBe(true);
    // Kuma's: from 10 s ago until 24 h from now.
    expect(new Date(res.body.notAfter).getTime() - new Date(res.body.notBefore).getTime()).toBe(24 * 3600 * 1000 + 10_000);
    const renew = new Date(res.body.renewAfter).getTime() - new Date(res.body.notBefore).getTime();
    expect(renew).toBeGreaterThanOrEqual(0.7 * 24 * 3600 * 1000);
    expect(renew).toBeLessThanOrEqual(0.8 * 24 * 3600 * 1000);
    expect(cp.output).not.toContain('PRIVATE KEY');
  });

  it('refuses a CSR for a service the Dataplane is not, a token for another Dataplane or mesh, a tampered token, and a mesh without mTLS', async () => {
    const before = await head();
    const t = await token({ name: 'web-1', mesh: 'demo' });
    const payments = await createWorkloadCsr(['spiffe://demo/web', 'spiffe://demo/payments']);
    const own = await createWorkloadCsr(['spiffe://demo/web']);
    const dp = dataplane('demo', 'web-1', 'web');
    const forbidden = await certificates({ mesh: 'demo', name: 'web-1', dataplaneToken: t, dataplaneResource: dp, csr: payments.csrPem });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.detail).toMatch(/does not cover: spiffe:\/\/demo\/payments/);
    const otherDp = await certificates({ mesh: 'demo', name: 'web-2', dataplaneToken: t, dataplaneResource: dataplane('demo', 'web-2', 'web'), csr: own.csrPem });
    expect(otherDp.status).toBe(401);
    const otherMesh = await certificates({ mesh: 'plain', name: 'web-1', dataplaneToken: t, dataplaneResource: dataplane('plain', 'web-1', 'web'), csr: own.csrPem });
    expect(otherMesh.status).toBe(401);
    const tampered = await certificates({ mesh: 'demo', name: 'web-1', dataplaneToken: t.slice(0, -4) + 'AAAA', dataplaneResource: dp, csr: own.csrPem });
    expect(tampered.status).toBe(401);
    const noToken = await certificates({ mesh: 'demo', name: 'web-1', dataplaneResource: dp, csr: own.csrPem });
    expect(noToken.status).toBe(401);
    const scoped = await token({ name: 'web-1', mesh: 'demo', tags: { 'kuma.io/service': ['web'] } });
    const claimsPayments = await certificates({ mesh: 'demo', name: 'web-1', dataplaneToken: scoped, dataplaneResource: dataplane('demo', 'web-1', 'payments'), csr: payments.csrPem });
    expect(claimsPayments.status).toBe(401);
    const garbled = await certificates({ mesh: 'demo', name: 'web-1', dataplaneToken: t, dataplaneResource: dp, csr: 'garbage' });
    expect(garbled.status).toBe(400);
    expect(garbled.body.invalid_parameters).toEqual([expect.objectContaining({ field: 'csr' })]);
    const plainToken = await token({ name: 'web-1', mesh: 'plain' });
    const plain = await certificates({ mesh: 'plain', name: 'web-1', dataplaneToken: plainToken, dataplaneResource: dataplane('plain', 'web-1', 'web'), csr: own.csrPem });
    expect(plain.status).toBe(409);
    expect(plain.body.detail).toMatch(/no mTLS/);
    expect(await head()).toBe(before);
    expect((await http(cp.url, 'GET', '/')).status).toBe(200);
  });

  it('answers hostile bodies on /certificates and /certificates/trust with a precise 4xx, issues nothing, and stays up', async () => {
    const before = await head();
    const t = await token({ name: 'web-1', mesh: 'demo' });
    const raw = (path: string, body: string) => rawRequest({ url: `https://localhost:${cp.dpPort}${path}`, method: 'POST', headers: { 'content-type': 'application/json' }, body, ca: dpCa });
    const deep = '{"a":'.repeat(1000) + '1' + '}'.repeat(1000);
    for (const path of ['/certificates', '/certificates/trust']) {
      const nested = await raw(path, `{"mesh":"demo","name":"web-1","dataplaneToken":${JSON.stringify(t)},"csr":${deep}}`);
      expect(nested.status, path).toBe(400);
      expect(nested.body.invalid_parameters[0]).toMatchObject({ field: 'body', reason: expect.stringMatching(/nesting/) });
      const proto = await raw(path, `{"mesh":"demo","name":"web-1","__proto__":{"csr":"x"}}`);
      expect(proto.status, path).toBe(400);
      expect(proto.body.invalid_parameters[0].reason).toMatch(/__proto__/);
      const wrongType = await raw(path, JSON.stringify({ mesh: 'demo', name: 'web-1', dataplaneToken: 42 }));
      expect(wrongType.status, path).toBe(400);
      expect(wrongType.body.invalid_parameters).toEqual([expect.objectContaining({ field: 'dataplaneToken', reason: 'must be a string' })]);
      const huge = await raw(path, JSON.stringify({ mesh: 'demo', name: 'web-1', dataplaneToken: t, csr: 'x'.repeat(2 * 1024 * 1024) }));
      expect(huge.status, path).toBe(413);
    }
    const csrNotString = await certificates({ mesh: 'demo', name: 'web-1', dataplaneToken: t, dataplaneResource: dataplane('demo', 'web-1', 'web'), csr: { pem: 'x' } });
    expect(csrNotString.status).toBe(400);
    expect(csrNotString.body.invalid_parameters).toEqual([expect.objectContaining({ field: 'csr', reason: 'must be a string' })]);
    expect(await head()).toBe(before);
    expect((await http(cp.url, 'GET', '/')).status).toBe(200);
  });

  it('keeps trusting the previous CA after enabledBackend moves to a new one, until its Secrets are deleted', async () => {
    const before = ((await http(cp.url, 'GET', '/meshes/demo/secrets/demo.ca-builtin-cert-ca-1')).body as { data: string }).data;
    expect((await http(cp.url, 'PUT', '/meshes/demo', mtlsMesh('demo', 'ca-2'))).status).toBe(200);
    const t = await token({ name: 'web-1', mesh: 'demo' });
    const { csrPem } = await createWorkloadCsr([]);
    const res = await certificates({ mesh: 'demo', name: 'web-1', dataplaneToken: t, dataplaneResource: dataplane('demo', 'web-1', 'web'), csr: csrPem });
    expect(res.status).toBe(200);
    expect(res.body.backend).toBe('ca-2');
    const bundle = (res.body.caBundle as string).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!;
    expect(bundle).toHaveLength(2);
    const cert = new X509Certificate(res.body.certificate);
    const issuers = bundle.map((p) => new X509Certificate(p));
    expect(issuers.filter((ca) => cert.verify(ca.publicKey))).toHaveLength(1);
    expect(issuers.some((ca) => ca.raw.equals(new X509Certificate(Buffer.from(before, 'base64')).raw))).toBe(true);
  });
});

describe('MeshIdentity and MeshTrust (Kuma 2.x workload identity)', () => {
  const identity = (name: string, spec: Record<string, unknown>) => ({ type: 'MeshIdentity', mesh: 'ident', name, spec });
  const bundled = (extra: Record<string, unknown> = {}) => ({ type: 'Bundled', bundled: { autogenerate: { enabled: true }, ...extra } });
  const labelled = (name: string, service: string, labels: Record<string, string>) =>
    JSON.stringify({ type: 'Dataplane', mesh: 'ident', name, labels, networking: { address: '127.0.0.1', inbound: [{ port: 7070, servicePort: 7071, tags: { 'kuma.io/service': service } }] } });

  beforeAll(async () => {
    expect((await http(cp.url, 'PUT', '/meshes/ident', { type: 'Mesh', name: 'ident' })).status).toBe(201);
  });

  it('a Bundled MeshIdentity gets its CA Secrets and a MeshTrust in the same write, and takes them with it when deleted', async () => {
    const res = await http(cp.url, 'PUT', '/meshes/ident/meshidentities/backend', identity('backend', { selector: { dataplane: { matchLabels: { app: 'backend' } } }, provider: bundled() }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(await secretNames('ident')).toEqual(['backend-private-key', 'backend-root-ca']);
    const trust = (await http(cp.url, 'GET', '/meshes/ident/meshtrusts/backend')).body;
    expect(trust.spec).toMatchObject({ trustDomain: 'ident.default.mesh.local', caBundles: [{ type: 'Pem' }], origin: { kri: 'kri_mid_ident_default__backend_' } });
    const ca = new X509Certificate(trust.spec.caBundles[0].pem.value);
    expect(ca.ca).toBe(true);
    expect(ca.subjectAltName).toBe('URI:spiffe://ident.default.mesh.local');
    // Written again: the same CA.
    expect((await http(cp.url, 'PUT', '/meshes/ident/meshidentities/backend', identity('backend', { selector: { dataplane: { matchLabels: { app: 'backend' } } }, provider: bundled({ certificateParameters: { expiry: '12h' } }) }))).status).toBe(200);
    expect((await http(cp.url, 'GET', '/meshes/ident/meshtrusts/backend')).body.spec.caBundles[0].pem.value).toBe(trust.spec.caBundles[0].pem.value);
    expect((await http(cp.url, 'PUT', '/meshes/ident/meshidentities/gone', identity('gone', { selector: { dataplane: {} }, provider: bundled({ meshTrustCreation: 'Disabled' }) }))).status).toBe(201);
    expect((await http(cp.url, 'GET', '/meshes/ident/meshtrusts/gone')).status).toBe(404);
    expect((await http(cp.url, 'DELETE', '/meshes/ident/meshidentities/gone')).status).toBe(200);
    expect(await secretNames('ident')).toEqual(['backend-private-key', 'backend-root-ca']);
  });

  it('refuses a bad MeshIdentity or MeshTrust with the field path, and writes nothing', async () => {
    const before = await head();
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['meshidentities', identity('bad', { provider: { type: 'Vault' } }), 'spec.provider.type', /must be one of: Bundled, Spire/],
      ['meshidentities', identity('bad', { provider: { type: 'Spire', spire: {} } }), 'spec.provider.type', /Spire is not supported by this control plane/],
      ['meshidentities', identity('bad', { spiffeID: { trustDomain: '{{ .Name }}.local' }, provider: bundled() }), 'spec.spiffeID.trustDomain', /couldn't render template with stub values: can't evaluate field Name/],
      ['meshidentities', identity('bad', { spiffeID: { path: 'workload/{{ .Workload }}' }, provider: bundled() }), 'spec.spiffeID.path', /must start with \//],
      ['meshidentities', identity('bad', { spiffeID: { path: '/{{ if .X }}' }, provider: bundled() }), 'spec.spiffeID.path', /couldn't parse template/],
      ['meshidentities', identity('bad', { provider: { type: 'Bundled', bundled: { meshTrustCreation: 'Sometimes', autogenerate: { enabled: true } } } }), 'spec.provider.bundled.meshTrustCreation', /has incorrect value: Sometimes/],
      ['meshidentities', identity('bad', { provider: { type: 'Bundled', bundled: {} } }), 'spec.provider.bundled.ca', /needs to be defined/],
      ['meshidentities', identity('bad', { provider: { type: 'Bundled', bundled: { ca: { certificate: { secret: 'nope' }, privateKey: { secret: 'nope' } } } } }), 'spec.provider.bundled.ca.certificate', /does not exist/],
      ['meshidentities', identity('bad', { provider: bundled(), extra: true }), 'spec.extra', /unknown field/],
      ['meshtrusts', { type: 'MeshTrust', mesh: 'ident', name: 'bad', spec: { trustDomain: 'x.local', caBundles: [{ type: 'Pem', pem: { value: 'not a certificate' } }] } }, 'spec.caBundles[0].pem.value', /PEM-encoded X.509/],
      ['meshtrusts', { type: 'MeshTrust', mesh: 'ident', name: 'bad', spec: { caBundles: [] } }, 'spec.trustDomain', /must be defined/],
    ];
    for (const [plural, body, field, reason] of cases) {
      const res = await http(cp.url, 'PUT', `/meshes/ident/${plural}/bad`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.invalid_parameters).toEqual(expect.arrayContaining([expect.objectContaining({ field, reason: expect.stringMatching(reason) })]));
    }
    expect(await head()).toBe(before);
  });

  it("signs the SPIFFE ID of the MeshIdentity that selects the Dataplane, from its trust domain and CA, with the MeshTrusts as the bundle", async () => {
    const t = await token({ name: 'backend-1', mesh: 'ident' });
    const { csrPem } = await createWorkloadCsr(['spiffe://ident/backend']);
    const res = await certificates({ mesh: 'ident', name: 'backend-1', dataplaneToken: t, dataplaneResource: labelled('backend-1', 'backend', { app: 'backend', 'kuma.io/workload': 'backend-wl' }), csr: csrPem });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const cert = new X509Certificate(res.body.certificate);
    expect(cert.subjectAltName).toBe('URI:spiffe://ident.default.mesh.local/workload/backend-wl');
    expect(res.body).toMatchObject({ identity: { kri: 'kri_mid_ident_default__backend_', spiffeId: 'spiffe://ident.default.mesh.local/workload/backend-wl' }, secrets: { identity: 'kri_mid_ident_default__backend_', trust: 'system_trust_bundle' } });
    expect(cert.verify(new X509Certificate(res.body.caBundle).publicKey)).toBe(true);
    // 12h from the identity's certificateParameters, plus Kuma's 10 s backdating.
    expect(new Date(res.body.notAfter).getTime() - new Date(res.body.notBefore).getTime()).toBe(12 * 3600 * 1000 + 10_000);
    // A Dataplane no identity selects, in a mesh without mTLS: nothing to sign with.
    const other = await certificates({ mesh: 'ident', name: 'web-1', dataplaneToken: await token({ name: 'web-1', mesh: 'ident' }), dataplaneResource: labelled('web-1', 'web', { app: 'web' }), csr: (await createWorkloadCsr([])).csrPem });
    expect(other.status).toBe(409);
    // A CSR asking for an identity the token does not cover is still refused.
    const greedy = await certificates({ mesh: 'ident', name: 'backend-1', dataplaneToken: t, dataplaneResource: labelled('backend-1', 'backend', { app: 'backend' }), csr: (await createWorkloadCsr(['spiffe://ident.default.mesh.local/workload/admin'])).csrPem });
    expect(greedy.status).toBe(403);
  });
});
