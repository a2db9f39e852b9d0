/**
 * A Mesh's `mtls` section as the control plane uses it: which CA backend signs, in which mode,
 * for how long, and which CA certificates the mesh trusts.
 */
import { parseDuration } from '../platform/duration.ts';
import { isObject, type JsonObject } from '../resources/validation.ts';
import { DEFAULT_CA_VALIDITY_MS, DEFAULT_WORKLOAD_VALIDITY_MS, type KeyAlgorithm } from './builtin-ca.ts';

export type MtlsMode = 'STRICT' | 'PERMISSIVE';

export interface MtlsBackend {
  readonly name: string;
  readonly type: 'builtin' | 'provided';
  readonly mode: MtlsMode;
  /** `dpCert.rotation.expiration`: workload certificate lifetime. */
  readonly workloadValidityMs: number;
  /** builtin: `conf.caCert.expiration`. */
  readonly caValidityMs: number;
  /** builtin: RSA when `conf.caCert.RSAbits` is set, ECDSA P-256 otherwise. */
  readonly caAlgorithm: KeyAlgorithm;
  /** provided: where the CA certificate and key are (`conf.cert`, `conf.key`). */
  readonly provided?: { readonly cert: DataSource; readonly key: DataSource };
}

/** Kuma's DataSource: a Secret of the mesh, or inline data. */
export type DataSource = { readonly secret: string } | { readonly inline: string } | { readonly inlineString: string };

/** Kuma's Secret names for a builtin CA (pkg/core/resources/apis/system/constants.go). */
export const builtinCaSecretNames = (mesh: string, backend: string) => ({ cert: `${mesh}.ca-builtin-cert-${backend}`, key: `${mesh}.ca-builtin-key-${backend}` });

const durationMs = (v: unknown, fallback: number): number => (typeof v === 'string' && v !== '' ? parseDuration(v) * 1000 : fallback);

function dataSource(v: unknown): DataSource | undefined {
  if (!isObject(v)) return undefined;
  if (typeof v['secret'] === 'string') return { secret: v['secret'] };
  if (typeof v['inline'] === 'string') return { inline: v['inline'] };
  if (typeof v['inlineString'] === 'string') return { inlineString: v['inlineString'] };
  return undefined;
}

/** Every backend of a (validated) Mesh spec. */
export function mtlsBackends(spec: Readonly<JsonObject>): MtlsBackend[] {
  const mtls = spec['mtls'];
  if (!isObject(mtls) || !Array.isArray(mtls['backends'])) return [];
  return mtls['backends'].filter(isObject).flatMap((b): MtlsBackend[] => {
    const type = b['type'];
    if (type !== 'builtin' && type !== 'provided') return [];
    const conf = isObject(b['conf']) ? b['conf'] : {};
    const caCert = isObject(conf['caCert']) ? conf['caCert'] : {};
    const rotation = isObject(b['dpCert']) && isObject(b['dpCert']['rotation']) ? b['dpCert']['rotation'] : {};
    const cert = dataSource(conf['cert']);
    const key = dataSource(conf['key']);
    return [
      {
        name: String(b['name']),
        type,
        mode: b['mode'] === 'PERMISSIVE' ? 'PERMISSIVE' : 'STRICT',
        workloadValidityMs: durationMs(rotation['expiration'], DEFAULT_WORKLOAD_VALIDITY_MS),
        caValidityMs: durationMs(caCert['expiration'], DEFAULT_CA_VALIDITY_MS),
        caAlgorithm: typeof caCert['RSAbits'] === 'number' ? { rsaBits: caCert['RSAbits'] } : 'ecdsa-p256',
        ...(type === 'provided' && cert && key ? { provided: { cert, key } } : {}),
      },
    ];
  });
}

/** The backend that signs, or undefined when the mesh has no mTLS. */
export function enabledMtlsBackend(spec: Readonly<JsonObject> | undefined): MtlsBackend | undefined {
  const mtls = spec?.['mtls'];
  if (!isObject(mtls) || typeof mtls['enabledBackend'] !== 'string' || mtls['enabledBackend'] === '') return undefined;
  return mtlsBackends(spec!).find((b) => b.name === mtls['enabledBackend']);
}
