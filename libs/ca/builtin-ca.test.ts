import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { dataplaneTagSet } from '../tokens/tag-scope.ts';
import { createBuiltinCa, createWorkloadCsr, CsrError, LoadedCa, workloadSans } from './builtin-ca.ts';

// Checked with Node's own X.509 parser, not the library that wrote the certificates.
describe('builtin CA', () => {
  it("creates Kuma's CA: O=Kuma, OU=Mesh, CN=<mesh>, spiffe://<mesh>, a CA valid for 10 years", async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const ca = await createBuiltinCa('demo', { now });
    const cert = new X509Certificate(ca.certPem);
    expect(cert.subject.split('\n').sort()).toEqual(['CN=demo', 'O=Kuma', 'OU=Mesh']);
    expect(cert.subjectAltName).toBe('URI:spiffe://demo');
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(new Date(cert.validFrom).getTime()).toBe(now.getTime() - 10_000);
    expect(new Date(cert.validTo).getUTCFullYear()).toBe(2035);
    expect(createPrivateKey(ca.keyPem).asymmetricKeyType).toBe('ec');
    expect(cert.verify(createPublicKey(createPrivateKey(ca.keyPem)))).toBe(true);
  });

  it('makes an RSA CA when conf.caCert.RSAbits asks for one', async () => {
    const ca = await createBuiltinCa('demo', { algorithm: { rsaBits: 2048 } });
    expect(createPrivateKey(ca.keyPem).asymmetricKeyType).toBe('rsa');
    const loaded = await LoadedCa.load(ca);
    const { csrPem } = await createWorkloadCsr(['spiffe://demo/web']);
    const { certPem } = await loaded.signWorkload(csrPem, ['spiffe://demo/web']);
    expect(new X509Certificate(certPem).verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });

  it("signs a CSR with Kuma's SANs and usages, for the CSR's key, for 24 h by default", async () => {
    const ca = await LoadedCa.load(await createBuiltinCa('demo'));
    const sans = workloadSans('demo', dataplaneTagSet({ networking: { inbound: [{ tags: { 'kuma.io/service': 'web', version: 'v1' } }] } }));
    expect(sans).toEqual(['spiffe://demo/web', 'kuma://kuma.io/service/web', 'kuma://version/v1']);
    const { csrPem, keyPem } = await createWorkloadCsr(sans);
    const now = new Date();
    const { certPem, notAfter } = await ca.signWorkload(csrPem, sans, { now });
    const cert = new X509Certificate(certPem);
    expect(cert.subject ?? '').toBe(''); // empty, as Kuma's
    expect(cert.subjectAltName).toBe('URI:spiffe://demo/web, URI:kuma://kuma.io/service/web, URI:kuma://version/v1');
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(notAfter.getTime() - now.getTime()).toBe(24 * 3600 * 1000);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });

  it('builds certificates two X.509 parsers read alike, from an ECDSA or an RSA CA', async () => {
    for (const algorithm of ['ecdsa-p256', { rsaBits: 2048 }] as const) {
      const ca = await LoadedCa.load(await createBuiltinCa('demo', { algorithm }));
      const { csrPem } = await createWorkloadCsr(['spiffe://demo/web']);
      const { certPem } = await ca.signWorkload(csrPem, ['spiffe://demo/web'], { now: new Date('2026-06-01T12:00:00.500Z') });
      const node = new X509Certificate(certPem);
      expect(node.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
      expect(node.validFrom).toBe('Jun  1 11:59:50 2026 GMT');
      expect(node.validTo).toBe('Jun  2 12:00:00 2026 GMT');
      expect(node.issuer).toBe(new X509Certificate(ca.certPem).subject);
      const peculiar = new x509.X509Certificate(certPem);
      expect(peculiar.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: false, critical: true });
      expect(peculiar.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyAgreement);
      expect(peculiar.getExtension(x509.SubjectAlternativeNameExtension)).toMatchObject({ critical: true });
      expect(peculiar.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(new x509.X509Certificate(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
      expect(BigInt(`0x${peculiar.serialNumber}`) > 0n).toBe(true);
      expect(await peculiar.verify({ publicKey: new x509.X509Certificate(ca.certPem).publicKey, signatureOnly: true })).toBe(true);
    }
  });

  it('refuses a CSR that asks for a service it is not entitled to, and a forged or garbled one', async () => {
    const ca = await LoadedCa.load(await createBuiltinCa('demo'));
    const { csrPem } = await createWorkloadCsr(['spiffe://demo/web', 'spiffe://demo/payments']);
    await expect(ca.signWorkload(csrPem, ['spiffe://demo/web'])).rejects.toThrow(CsrError);
    await expect(ca.signWorkload(csrPem, ['spiffe://demo/web'])).rejects.toThrow(/does not cover: spiffe:\/\/demo\/payments/);
    await expect(ca.signWorkload('not a csr', ['spiffe://demo/web'])).rejects.toThrow(/not a PEM-encoded PKCS#10/);
    // A CSR whose signature does not match its key: flip a byte of the signature.
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5]! ^= 0xff;
    const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const own = await createWorkloadCsr(['spiffe://demo/web']);
    await expect(ca.signWorkload(own.csrPem, ['spiffe://demo/web'])).resolves.toBeTruthy();
    await expect(ca.signWorkload(forged, ['spiffe://demo/web', 'spiffe://demo/payments'])).rejects.toThrow(CsrError);
  });

  it('never issues past the CA’s own expiry', async () => {
    const ca = await LoadedCa.load(await createBuiltinCa('demo', { validityMs: 3600_000 }));
    const { csrPem } = await createWorkloadCsr([]);
    const { notAfter } = await ca.signWorkload(csrPem, []);
    expect(notAfter.getTime()).toBeLessThanOrEqual(ca.cert.notAfter.getTime());
  });
});
