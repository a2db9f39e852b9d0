import type { Violations } from './validation.ts';

/**
 * Kuma's meta_validator.go: resource names are RFC 1123 subdomains of at most 253 characters;
 * the `mesh` field of mesh-scoped resources keeps Kuma's older, wider character set (adds '_').
 */
export const MAX_NAME_LENGTH = 253;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;


const BACKWARD_COMPAT = /^[0-9a-z-_.]*$/;

function validateIdentifier(id: unknown, re: RegExp, message: string, v: Violations): id is string {
  if (typeof id !== 'string' || id === '') {
    v.add('cannot be empty');
    return false;
  }
  if (id.length > MAX_NAME_LENGTH) {
    v.add(`value length must less or equal ${MAX_NAME_LENGTH}`);
    return false;
  }
  if (!re.test(id)) {
    v.add(message);
    return false;
  }
  return true;
}

/** The `name` of any resource, Meshes included. */
export function validateName(name: unknown, v: Violations): name is string {
  return validateIdentifier(
    name,
    DNS1123_SUBDOMAIN,
    "invalid characters. A lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    v,
  );
}

/** The `mesh` field of a mesh-scoped resource. */
export function validateMeshRef(mesh: unknown, v: Violations): mesh is string {
  return validateIdentifier(
    mesh,
    BACKWARD_COMPAT,
    "invalid characters. Valid characters are numbers, lowercase latin letters and '-', '_', '.' symbols.",
    v,
  );
}

const LABEL_KEY_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_PREFIX = DNS1123_SUBDOMAIN;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Labels use Kubernetes' label syntax (they are synced to Kubernetes in multi-zone). */
export function validateLabels(labels: unknown, v: Violations): void {
  if (labels === undefined || labels === null) return;
  if (typeof labels !== 'object' || Array.isArray(labels)) {
    v.add('must be an object of string values');
    return;
  }
  for (const [key, value] of Object.entries(labels)) {
    const kv = v.key(key);
    const slash = key.lastIndexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : '';
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if (slash >= 0 && (prefix === '' || prefix.length > 253 || !LABEL_PREFIX.test(prefix))) {
      kv.add('label key prefix must be a lowercase RFC 1123 subdomain of at most 253 characters');
    }
    if (name === '' || name.length > 63 || !LABEL_KEY_NAME.test(name)) {
      kv.add(
        "label key name must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric character",
      );
    }
    if (typeof value !== 'string') {
      kv.add('label value must be a string');
    } else if (value.length > 63 || !LABEL_VALUE.test(value)) {
      kv.add(
        "label value must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric character",
      );
    }
  }
}
