/**
 * Kuma's builtin certificate authority (pkg/plugins/ca/builtin) and workload certificates
 * (pkg/core/ca/issuer), with @peculiar/x509 over Node's WebCrypto.
 *
 * Differences from Kuma, on purpose:
 * - the CA key is ECDSA P-256 unless the backend's `conf.caCert.RSAbits` asks for RSA, so that
 *   signing 10,000 workload certificates takes seconds;
 * - the control plane never sees a workload's private key: it signs a CSR (see `signWorkload`).
 */
import { createPrivateKey, randomBytes, sign, webcrypto, type KeyObject } from 'node:crypto';
// @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs the Reflect polyfill first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { sequence, subjectOf, time, tlv, unsignedInteger, uriSanExtension } from './der.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type EcdsaParams = webcrypto.EcdsaParams;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC: webcrypto.EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const rsa = (bits: number): webcrypto.RsaHashedKeyGenParams => ({ name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' });

/** `version [0] EXPLICIT INTEGER 2` (v3). */
const V3 = Buffer.from([0x02, 0x01, 0x02]);
/** AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2, no parameters). */
const ECDSA_SHA256 = Buffer.from('300a06082a8648ce3d040302', 'hex');
/** AlgorithmIdentifier sha256WithRSAEncryption (1.2.840.113549.1.1.11, NULL parameters). */
const RSA_SHA256 = Buffer.from('300d06092a864886f70d01010b0500', 'hex');

/** Kuma's `NotBefore = now - 10s`: tolerates clocks a little behind. */
const BACKDATE_MS = 10_000;
export const DEFAULT_CA_VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;
export const DEFAULT_WORKLOAD_VALIDITY_MS = 24 * 3600 * 1000;

export type KeyAlgorithm = 'ecdsa-p256' | { readonly rsaBits: number };

export interface CaMaterial {
  readonly certPem: string;
  readonly keyPem: string;
}

const serial = () => {
  const b = randomBytes(16);
  b[0]! &= 0x7f; // positive
  return b.toString('hex');
};

async function generateKeys(alg: KeyAlgorithm): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(alg === 'ecdsa-p256' ? EC : rsa(alg.rsaBits), true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

/** A mesh's CA: `O=Kuma, OU=Mesh, CN=<mesh>`, URI SAN `spiffe://<mesh>`, self-signed, CertSign|CRLSign. */
export async function createBuiltinCa(mesh: string, opts: { readonly algorithm?: KeyAlgorithm; readonly validityMs?: number; readonly now?: Date } = {}): Promise<CaMaterial> {
  const alg = opts.algorithm ?? 'ecdsa-p256';
  const keys = await generateKeys(alg);
  const now = (opts.now ?? new Date()).getTime();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ O: ['Kuma'] }, { OU: ['Mesh'] }, { CN: [mesh] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + (opts.validityMs ?? DEFAULT_CA_VALIDITY_MS)),
    keys,
    signingAlgorithm: alg === 'ecdsa-p256' ? EC : rsa(alg.rsaBits),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${mesh}` }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await pkcs8Pem(keys.privateKey) };
}

/** A CA loaded for signing: parse its PEMs once per Secret version. */
export class LoadedCa {
  private constructor(
    readonly cert: x509.X509Certificate,
    readonly certPem: string,
    /**
     * What workload certificates are built from, as DER, once per CA: the CA's subject (their
     * issuer), the signature algorithm, the signing key and the extensions every one carries.
     */
    private readonly template: { readonly issuer: Buffer; readonly sigAlg: Buffer; readonly key: KeyObject; readonly fixed: readonly Buffer[] },
  ) {}

  static async load(material: CaMaterial): Promise<LoadedCa> {
    const cert = new x509.X509Certificate(material.certPem);
    const key = createPrivateKey(material.keyPem);
    if (key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'rsa') invalid(`unsupported CA key type ${key.asymmetricKeyType}`);
    if (!(await cert.publicKey.export()) || !cert.subject) invalid('the CA certificate has no subject');
    const fixed = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(cert, false),
    ];
    const template = {
      issuer: subjectOf(Buffer.from(cert.rawData)),
      sigAlg: key.asymmetricKeyType === 'ec' ? ECDSA_SHA256 : RSA_SHA256,
      key,
      fixed: fixed.map((e) => Buffer.from(e.rawData)),
    };
    return new LoadedCa(cert, material.certPem.endsWith('\n') ? material.certPem : material.certPem + '\n', template);
  }

  /**
   * A workload certificate for `csrPem`'s key: `sans` (URIs) exactly, empty subject as Kuma,
   * DigitalSignature|KeyEncipherment|KeyAgreement, ServerAuth and ClientAuth. The CSR's
   * signature must verify (the requester holds the key) and it may ask only for URIs in `accept`
   * (default: `sans`).
   */
  async signWorkload(csrPem: string, sans: readonly string[], opts: { readonly validityMs?: number; readonly now?: Date; readonly accept?: readonly string[] } = {}): Promise<{ certPem: string; notBefore: Date; notAfter: Date }> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (err) {
      throw new CsrError('csr', `is not a PEM-encoded PKCS#10 certificate request: ${(err as Error).message}`);
    }
    if (!(await csr.verify().catch(() => false))) throw new CsrError('csr', 'signature does not verify: the request was not signed by its key');
    const requested = csrUris(csr);
    const accept = opts.accept ?? sans;
    const allowed = new Set(accept);
    const extra = requested.filter((u) => !allowed.has(u));
    if (extra.length > 0) throw new CsrError('csr', `asks for identities the dataplane token does not cover: ${extra.join(', ')} (allowed: ${accept.join(', ') || 'none'})`);
    // The certificate holds whole seconds (X.509 times): what is returned is what was asked for.
    const now = (opts.now ?? new Date()).getTime();
    const notBefore = new Date(now - BACKDATE_MS);
    const notAfter = new Date(Math.min(now + (opts.validityMs ?? DEFAULT_WORKLOAD_VALIDITY_MS), this.cert.notAfter.getTime()));
    const serialBytes = randomBytes(16);
    serialBytes[0] = (serialBytes[0]! & 0x7f) | 0x01; // positive, 16 bytes, minimal
    const d = this.template;
    const tbs = sequence(
      tlv(0xa0, V3),
      unsignedInteger(serialBytes),
      d.sigAlg,
      d.issuer,
      sequence(time(notBefore), time(notAfter)),
      // The subject is empty, as Kuma's: the identity is in the (critical) URI SANs.
      sequence(),
      Buffer.from(csr.publicKey.rawData),
      tlv(0xa3, sequence(...d.fixed.slice(0, 3), uriSanExtension(sans, true), d.fixed[3]!)),
    );
    const signature = sign('sha256', tbs, d.key.asymmetricKeyType === 'ec' ? { key: d.key, dsaEncoding: 'der' } : d.key);
    const cert = sequence(tbs, d.sigAlg, tlv(0x03, Buffer.from([0]), signature));
    const b64 = cert.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
    return { certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`, notBefore, notAfter };
  }
}

/** The URI SANs a CSR asks for (in its extensionRequest). */
function csrUris(csr: x509.Pkcs10CertificateRequest): string[] {
  const san = csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  return san ? san.names.items.filter((n) => n.type === 'url').map((n) => n.value) : [];
}

/** A key pair and CSR for `sans`, as kuma-dp makes them: the key never leaves the host. */
export async function createWorkloadCsr(sans: readonly string[], algorithm: KeyAlgorithm = 'ecdsa-p256'): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await generateKeys(algorithm);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: algorithm === 'ecdsa-p256' ? EC : rsa(algorithm.rsaBits),
    extensions: [new x509.SubjectAlternativeNameExtension(sans.map((value) => ({ type: 'url' as const, value })))],
  });
  return { csrPem: csr.toString('pem') + '\n', keyPem: await pkcs8Pem(keys.privateKey) };
}

/** A request to sign that cannot be honoured; `field` names the request field. */
export class CsrError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'CsrError';
  }
}

function invalid(message: string): never {
  throw new Error(message);
}

/** The URI SANs Kuma puts in a workload certificate: `spiffe://<mesh>/<service>` per service, `kuma://<tag>/<value>` per tag value. */
export function workloadSans(mesh: string, tags: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const out: string[] = [];
  for (const svc of [...(tags.get('kuma.io/service') ?? [])].sort()) out.push(`spiffe://${mesh}/${svc}`);
  for (const key of [...tags.keys()].sort()) for (const value of [...tags.get(key)!].sort()) out.push(`kuma://${key}/${value}`);
  return out;
}
