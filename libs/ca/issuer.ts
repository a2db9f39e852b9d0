/**
 * Signs workload certificates for proxies of a mesh with mTLS, from the state the control plane
 * projects: the Mesh (which backend signs, for how long) and the CA Secrets. A signing key is
 * parsed once per Secret version; the trust bundle is every CA the mesh still holds, so that a
 * change of `enabledBackend` keeps certificates of the previous CA valid until its Secrets are
 * deleted.
 */
import { kriOf } from '../resources/kri.ts';
import type { Resource } from '../resources/resource.ts';
import { isObject, type JsonObject } from '../resources/validation.ts';
import { dataplaneTagSet } from '../tokens/tag-scope.ts';
import { CsrError, LoadedCa, workloadSans } from './builtin-ca.ts';
import { readDataSource } from './mesh-ca-resources.ts';
import { identityValidityMs, MeshIdentityType, pemCertificates, selectIdentity, spiffeIdOf, SYSTEM_TRUST_BUNDLE, TemplateError } from './mesh-identity.ts';
import { identityCaMaterial } from './mesh-identity-resources.ts';
import type { SignPool } from './sign-pool.ts';
import { builtinCaSecretNames, enabledMtlsBackend, mtlsBackends, type MtlsBackend } from './mesh-mtls.ts';

export interface IssuerState {
  mesh(name: string): Readonly<JsonObject> | undefined;
  /** A Secret's data (base64) in a mesh. */
  secret(mesh: string, name: string): string | undefined;
  /** Every Secret name of a mesh. */
  secretNames(mesh: string): readonly string[];
  /** The MeshIdentities of a mesh (Kuma 2.x workload identity). */
  identities?(mesh: string): Iterable<Resource>;
  /** The MeshTrusts of a mesh: CAs its proxies trust besides the mesh's own. */
  trusts?(mesh: string): Iterable<Resource>;
  /** The zone this control plane runs as (a trust domain's `{{ .Zone }}`). */
  readonly zone?: string;
}

const TITLES: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict' };

/** Why a certificate is not issued: the HTTP status and a precise reason. */
export class IssueError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'IssueError';
  }

  /** The HTTP error's title for its status. */
  get title(): string {
    return TITLES[this.status]!;
  }
}

export interface IssuedCertificate {
  readonly certificate: string;
  /** The CAs a proxy of this mesh trusts (PEM, concatenated). */
  readonly caBundle: string;
  /** What signs: the mesh's mTLS backend, or the KRI of the MeshIdentity (a change means a new CA). */
  readonly backend: string;
  /** With a MeshIdentity: its KRI and the SPIFFE ID issued, and Kuma's SDS names for the certificate and the trust bundle. */
  readonly identity?: { readonly kri: string; readonly spiffeId: string };
  readonly secrets?: { readonly identity: string; readonly trust: string };
  readonly notBefore: string;
  readonly notAfter: string;
  /** When the proxy should renew: 4/5 of the lifetime, less up to a tenth of it at random (no bursts). */
  readonly renewAfter: string;
}

export class WorkloadIssuer {
  /** Per `mesh/backend`: the CA as parsed from the Secret data it was parsed from. */
  private readonly loaded = new Map<string, { readonly cert: string; readonly key: string; readonly ca: Promise<LoadedCa> }>();

  constructor(
    private readonly state: IssuerState,
    private readonly random: () => number = Math.random,
    /** Worker threads to sign on (the ASN.1 work off the main thread); without it, signs in this thread. */
    private readonly pool?: SignPool,
  ) {}

  /** The CA material of a backend, PEM, or undefined when its Secrets are missing. */
  private material(mesh: string, b: MtlsBackend): { cert: string; key: string } | undefined {
    if (b.type === 'provided') {
      if (!b.provided) return undefined;
      const cert = readDataSource(b.provided.cert, (n) => this.state.secret(mesh, n));
      const key = readDataSource(b.provided.key, (n) => this.state.secret(mesh, n));
      return cert !== undefined && key !== undefined ? { cert, key } : undefined;
    }
    const names = builtinCaSecretNames(mesh, b.name);
    const cert = this.state.secret(mesh, names.cert);
    const key = this.state.secret(mesh, names.key);
    return cert !== undefined && key !== undefined ? { cert: Buffer.from(cert, 'base64').toString('utf8'), key: Buffer.from(key, 'base64').toString('utf8') } : undefined;
  }

  /** Every CA certificate the mesh holds: its backends' and any builtin CA Secret left from an earlier backend. */
  trustBundle(mesh: string): string {
    const spec = this.state.mesh(mesh);
    const pems = new Set<string>();
    for (const b of spec ? mtlsBackends(spec) : []) {
      const m = this.material(mesh, b);
      if (m) pems.add(m.cert.trim());
    }
    const prefix = `${mesh}.ca-builtin-cert-`;
    for (const name of this.state.secretNames(mesh)) {
      if (!name.startsWith(prefix)) continue;
      const data = this.state.secret(mesh, name);
      if (data) pems.add(Buffer.from(data, 'base64').toString('utf8').trim());
    }
    // MeshTrusts (Kuma 2.x): every CA bundle of the mesh, so proxies with a MeshIdentity and
    // proxies of the mesh's own CA trust each other.
    for (const t of this.state.trusts?.(mesh) ?? []) {
      for (const b of (t.spec['caBundles'] as { pem?: { value?: string } }[] | undefined) ?? []) for (const pem of pemCertificates(b.pem?.value ?? '') ?? []) pems.add(pem.trim());
    }
    return [...pems].map((p) => p + '\n').join('');
  }

  /**
   * What a proxy of `mesh` should trust now, and what signs for it: kuma-dp polls it, so a new CA
   * is trusted before certificates from it arrive.
   */
  trust(mesh: string, dataplane?: Readonly<JsonObject>): { caBundle: string; backend: string } {
    const mi = dataplane && this.identityOf(mesh, dataplane);
    if (mi) return { caBundle: this.trustBundle(mesh), backend: this.kriOf(mi) };
    const backend = this.signingBackend(mesh);
    return { caBundle: this.trustBundle(mesh), backend: backend.name };
  }

  /** The MeshIdentity that selects the Dataplane (by its labels), if any. */
  private identityOf(mesh: string, dataplane: Readonly<JsonObject>): Resource | undefined {
    return selectIdentity(this.state.identities?.(mesh) ?? [], labelsOf(dataplane));
  }

  private kriOf(mi: Resource): string {
    return kriOf(mi.meta, MeshIdentityType)!;
  }

  /** The backend that signs for `mesh`; IssueError 404 without the mesh, 409 without mTLS. */
  private signingBackend(mesh: string): MtlsBackend {
    const spec = this.state.mesh(mesh);
    if (!spec) throw new IssueError(404, `mesh "${mesh}" does not exist`, 'mesh');
    const backend = enabledMtlsBackend(spec);
    if (!backend) throw new IssueError(409, `mesh "${mesh}" has no mTLS enabled (mtls.enabledBackend)`);
    return backend;
  }

  /**
   * A certificate for `csrPem` for the Dataplane `dataplane` (already authenticated against its
   * token): SANs from its tags, as Kuma's. Throws IssueError (404 no mesh, 409 no mTLS or CA not
   * ready yet, 400/403 a CSR asking for more than the Dataplane is).
   */
  async issue(mesh: string, dataplane: Readonly<JsonObject>, csrPem: string, now = new Date()): Promise<IssuedCertificate> {
    const tags = identityTags(dataplane);
    const legacy = workloadSans(mesh, tags);
    const mi = this.identityOf(mesh, dataplane);
    if (mi) {
      // Kuma 2.x: one URI SAN, the SPIFFE ID the MeshIdentity gives this Dataplane. The CSR may
      // ask for it or for the Dataplane's mesh identities (what kuma-dp asks for), nothing else.
      const m = identityCaMaterial(mi, (name) => this.state.secret(mesh, name));
      if (!m) throw new IssueError(409, `the CA of MeshIdentity "${mi.meta.name}" of mesh "${mesh}" is not available yet`);
      let spiffeId: string;
      try {
        const service = [...(tags.get('kuma.io/service') ?? [])].sort()[0];
        // Without a `kuma.io/workload` label, the first service is the workload.
        spiffeId = spiffeIdOf(mi, this.state.zone ?? 'default', { labels: labelsOf(dataplane), ...(service ? { service } : {}) });
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        throw new IssueError(409, `MeshIdentity "${mi.meta.name}" cannot name this Dataplane: ${err.message}`);
      }
      const kri = this.kriOf(mi);
      const signed = await this.sign(`mid/${mesh}/${mi.meta.name}`, m, csrPem, [spiffeId], [...legacy, spiffeId], identityValidityMs(mi), now);
      return { ...this.answer(mesh, kri, signed), identity: { kri, spiffeId }, secrets: { identity: kri, trust: SYSTEM_TRUST_BUNDLE } };
    }
    const backend = this.signingBackend(mesh);
    const m = this.material(mesh, backend);
    if (!m) throw new IssueError(409, `the CA of backend "${backend.name}" of mesh "${mesh}" is not available yet`);
    return this.answer(mesh, backend.name, await this.sign(`${mesh}/${backend.name}`, m, csrPem, legacy, legacy, backend.workloadValidityMs, now));
  }

  private answer(mesh: string, backend: string, signed: { certPem: string; notBefore: Date; notAfter: Date }): IssuedCertificate {
    const lifetime = signed.notAfter.getTime() - signed.notBefore.getTime();
    const renewAt = signed.notBefore.getTime() + lifetime * (0.8 - 0.1 * this.random());
    return {
      certificate: signed.certPem,
      caBundle: this.trustBundle(mesh),
      backend,
      notBefore: signed.notBefore.toISOString(),
      notAfter: signed.notAfter.toISOString(),
      renewAfter: new Date(renewAt).toISOString(),
    };
  }

  /** Signs `sans` for the CSR's key with the CA `m` (cached as `key`); the CSR may ask only for `accept`. */
  private async sign(key: string, m: { cert: string; key: string }, csrPem: string, sans: readonly string[], accept: readonly string[], validityMs: number, now: Date) {
    try {
      if (this.pool) return await this.pool.sign({ certPem: m.cert, keyPem: m.key }, csrPem, sans, { validityMs, now, accept });
      let entry = this.loaded.get(key);
      if (!entry || entry.cert !== m.cert || entry.key !== m.key) {
        entry = { cert: m.cert, key: m.key, ca: LoadedCa.load({ certPem: m.cert, keyPem: m.key }) };
        this.loaded.set(key, entry);
      }
      return await (await entry.ca).signWorkload(csrPem, sans, { validityMs, now, accept });
    } catch (err) {
      if (err instanceof CsrError) throw new IssueError(err.reason.includes('does not cover') ? 403 : 400, err.reason, err.field);
      throw err;
    }
  }
}

/** A Dataplane body's labels (none when absent or malformed). */
const labelsOf = (dataplane: Readonly<JsonObject>): Record<string, string> => (isObject(dataplane['labels']) ? (dataplane['labels'] as Record<string, string>) : {});

/** Kuma's identity tags: the inbounds' (and gateway's) tags; without `kuma.io/service`, the `kuma.io/workload` label is the service. */
export function identityTags(dataplane: Readonly<JsonObject>): Map<string, Set<string>> {
  const tags = dataplaneTagSet(dataplane);
  if (!tags.has('kuma.io/service')) {
    const workload: unknown = labelsOf(dataplane)['kuma.io/workload'];
    if (typeof workload === 'string' && workload !== '') tags.set('kuma.io/service', new Set([workload]));
  }
  return tags;
}
