import { generate } from 'selfsigned';

/** Certificates for the control plane's Service (its webhooks, its data plane server), made with selfsigned: ECDSA P-256, SHA-256. */

export const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

/** A CA valid ten years. */
export async function generateCa(commonName: string): Promise<Pem> {
  const ca = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + TEN_YEARS_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return { cert: ca.cert, key: ca.private };
}

/** A serving certificate signed by `ca` for `<service>`, `.<namespace>`, `.svc` and `.svc.cluster.local` (and, with `localhost`, localhost and 127.0.0.1). */
export async function serviceCertificate(ca: Pem, service: string, namespace: string, notAfter: Date, opts: { readonly localhost?: boolean } = {}): Promise<Pem> {
  const names = [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, ...(opts.localhost ? ['localhost'] : [])];
  const leaf = await generate([{ name: 'commonName', value: `${service}.${namespace}.svc` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...names.map((value) => ({ type: 2 as const, value })), ...(opts.localhost ? [{ type: 7 as const, ip: '127.0.0.1' }] : [])] },
    ],
  });
  return { cert: leaf.cert, key: leaf.private };
}
