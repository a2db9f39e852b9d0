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

const BACKWARD_COMPAT_MESSAGE = "invalid characters. Valid characters are numbers, lowercase latin letters and '-', '_', '.' symbols.";

/**
 * A mesh or name taken from a URL path (or a KRI), checked as Kuma checks path parameters before
 * any lookup: Kuma's older character set. Returns the reason, or undefined when it is fine.
 */
export function pathIdentifierError(id: string): string | undefined {
  return BACKWARD_COMPAT.test(id) ? undefined : BACKWARD_COMPAT_MESSAGE;
}

/** The `mesh` field of a mesh-scoped resource. */
export function validateMeshRef(mesh: unknown, v: Violations): mesh is string {
  return validateIdentifier(
    mesh,
    BACKWARD_COMPAT,
    BACKWARD_COMPAT_MESSAGE,
    v,
  );
}

// Kubernetes' apimachinery validation (IsQualifiedName, IsValidLabelValue), which Kuma applies to
// labels, with its messages: labels are synced to Kubernetes in multi-zone.
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";

/** apimachinery's RegexError: the message, examples and the regular expression. */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}
const maxLenError = (n: number) => `must be no more than ${n} characters`;

function dns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!DNS1123_SUBDOMAIN.test(value)) errs.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errs;
}

/** apimachinery's IsQualifiedName: `[prefix/]name`. */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  let name: string;
  const errs: string[] = [];
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix === '') errs.push('prefix part must be non-empty');
    else for (const e of dns1123Subdomain(prefix)) errs.push(`prefix part ${e}`);
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name === '') errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${maxLenError(63)}`);
  if (!QUALIFIED_NAME.test(name)) errs.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

/** apimachinery's IsValidLabelValue. */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!LABEL_VALUE.test(value)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

/** apimachinery's IsDNS1035Label, as Kuma's Mesh deprecation check uses it. */
export function dns1035LabelErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!DNS1035_LABEL.test(value)) errs.push(regexError(DNS1035_LABEL_MSG, '[a-z]([-a-z0-9]*[a-z0-9])?', 'my-name', 'abc-123'));
  return errs;
}

/** Labels as Kuma validates them: each key a qualified name, each value a label value, at `labels["key"]`. */
export function validateLabels(labels: unknown, v: Violations): void {
  if (labels === undefined || labels === null) return;
  if (typeof labels !== 'object' || Array.isArray(labels)) {
    v.add('must be an object of string values');
    return;
  }
  for (const [key, value] of Object.entries(labels)) {
    const kv = v.key(key);
    for (const e of qualifiedNameErrors(key)) kv.add(e);
    if (typeof value !== 'string') kv.add('label value must be a string');
    else for (const e of labelValueErrors(value)) kv.add(e);
  }
}
