import type { ResourceTypeDescriptor } from './descriptor.ts';
import type { Resource } from './resource.ts';
import { rejectUnknownFields } from './fields.ts';
import type { JsonObject, Violations } from './validation.ts';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A stored Secret's or GlobalSecret's data (base64), if it exists. */
export function secretData(r: Resource | undefined): string | undefined {
  const data = r?.spec['data'];
  return typeof data === 'string' ? data : undefined;
}

export function validateSecret(spec: Readonly<JsonObject>, v: Violations): void {
  rejectUnknownFields(spec as JsonObject, ['data'], v);
  const data = spec['data'];
  if (typeof data !== 'string' || data === '') v.field('data').add('cannot be empty');
  else if (!BASE64.test(data)) v.field('data').add('must be base64 encoded');
}

export const SecretType: ResourceTypeDescriptor = {
  name: 'Secret',
  plural: 'secrets',
  scope: 'Mesh',
  kumactlArg: 'secret',
  kumactlListArg: 'secrets',
  isPolicy: false,
  specLayout: 'inline',
  validate: validateSecret,
  confidential: true,
  columns: [],
};

/** Cluster-wide secrets (token signing keys). Kuma's GlobalSecret. */
export const GlobalSecretType: ResourceTypeDescriptor = {
  name: 'GlobalSecret',
  plural: 'global-secrets',
  scope: 'Global',
  kumactlArg: 'global-secret',
  kumactlListArg: 'global-secrets',
  isPolicy: false,
  specLayout: 'inline',
  validate: validateSecret,
  confidential: true,
  columns: [],
};
