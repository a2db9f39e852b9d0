/**
 * What a Mesh's CA backends need stored before the Mesh is (Kuma's EnsureCAs and
 * ValidateBackend): a builtin backend's CA Secrets, created once; a provided backend's
 * certificate and key, checked to be a CA and its key.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { ValidationError, type FieldViolation, type JsonObject } from '../resources/validation.ts';
import { createBuiltinCa, type CaMaterial } from './builtin-ca.ts';
import { builtinCaSecretNames, mtlsBackends, type DataSource } from './mesh-mtls.ts';

/** A Secret of the mesh, by name: its data (base64), if it exists. */
export type SecretData = (name: string) => string | undefined;

const SUPPORTED = new Set(['builtin', 'provided']);

export function readDataSource(src: DataSource, secret: SecretData): string | undefined {
  if ('inlineString' in src) return src.inlineString;
  const b64 = 'inline' in src ? src.inline : secret(src.secret);
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}

/** A provided CA's material, or the reason it cannot serve as one. */
export function checkProvidedCa(certPem: string, keyPem: string): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return 'cert: is not a PEM-encoded X.509 certificate';
  }
  if (!cert.ca) return 'cert: is not a CA certificate (basicConstraints CA:TRUE)';
  try {
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return 'key: does not match the certificate';
  } catch {
    return 'key: is not a PEM-encoded private key';
  }
  return undefined;
}

/**
 * The Secrets to create with this Mesh spec (name and base64 data), or a ValidationError with
 * Kuma's field paths. Nothing is generated for a backend whose Secrets exist: a CA lives as long
 * as its Secrets, and switching `enabledBackend` back and forth keeps both CAs.
 */
export async function meshCaSecrets(mesh: string, spec: Readonly<JsonObject>, secret: SecretData): Promise<{ name: string; data: string }[]> {
  const out: { name: string; data: string }[] = [];
  const violations: FieldViolation[] = [];
  const raw = (spec['mtls'] as JsonObject | undefined)?.['backends'];
  const backends = Array.isArray(raw) ? raw : [];
  const parsed = mtlsBackends(spec);
  backends.forEach((b: JsonObject, i) => {
    const type = String(b['type']);
    if (!SUPPORTED.has(type)) violations.push({ field: `mtls.backends[${i}].type`, reason: `type "${type}" is not supported by this control plane (supported: builtin, provided)` });
  });
  for (const b of parsed) {
    const at = `mtls.backends[${backends.findIndex((x: JsonObject) => x['name'] === b.name)}]`;
    if (b.type === 'provided') {
      if (!b.provided) continue; // reported by the validator
      const certPem = readDataSource(b.provided.cert, secret);
      const keyPem = readDataSource(b.provided.key, secret);
      if (certPem === undefined) violations.push({ field: `${at}.conf.cert`, reason: `secret "${(b.provided.cert as { secret: string }).secret}" does not exist in mesh "${mesh}"` });
      if (keyPem === undefined) violations.push({ field: `${at}.conf.key`, reason: `secret "${(b.provided.key as { secret: string }).secret}" does not exist in mesh "${mesh}"` });
      if (certPem === undefined || keyPem === undefined) continue;
      const problem = checkProvidedCa(certPem, keyPem);
      if (problem) violations.push({ field: `${at}.conf.${problem.split(':')[0]}`, reason: problem.slice(problem.indexOf(':') + 2) });
      continue;
    }
    const names = builtinCaSecretNames(mesh, b.name);
    if (secret(names.cert) !== undefined && secret(names.key) !== undefined) continue;
    const ca: CaMaterial = await createBuiltinCa(mesh, { algorithm: b.caAlgorithm, validityMs: b.caValidityMs });
    out.push({ name: names.cert, data: Buffer.from(ca.certPem).toString('base64') }, { name: names.key, data: Buffer.from(ca.keyPem).toString('base64') });
  }
  if (violations.length > 0) throw new ValidationError(violations);
  return out;
}
