import { isObject, type Violations } from './validation.ts';

export const SERVICE_TAG = 'kuma.io/service';
export const PROTOCOL_TAG = 'kuma.io/protocol';
export const ZONE_TAG = 'kuma.io/zone';

/** Protocols Kuma accepts in `kuma.io/protocol`. */
export const PROTOCOLS = ['grpc', 'http', 'http2', 'kafka', 'tcp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

const TAG_NAME = /^[a-zA-Z0-9.\-_:/]*$/;
const TAG_VALUE = /^[a-zA-Z0-9.\-_:]*$/;

export interface TagRules {
  /** Check `kuma.io/protocol` against PROTOCOLS (inbounds). */
  readonly protocol?: boolean;
  /** Add `mandatory tag "kuma.io/service" is missing` at the map's path. */
  readonly requireService?: boolean;
}

/** Kuma's tag rules (validators.go ValidateTags), in Kuma's order; keys are checked sorted. */
export function validateTags(tags: unknown, v: Violations, rules: TagRules = {}): tags is Record<string, string> {
  if (!isObject(tags)) {
    v.add('must be an object of string values');
    return false;
  }
  let ok = true;
  const proto = tags[PROTOCOL_TAG];
  if (rules.protocol && typeof proto === 'string' && !(PROTOCOLS as readonly string[]).includes(proto)) {
    v.key(PROTOCOL_TAG).add(`tag "${PROTOCOL_TAG}" has an invalid value "${proto}". Allowed values: ${PROTOCOLS.join(', ')}`);
    ok = false;
  }
  for (const name of Object.keys(tags).sort()) {
    const value = tags[name];
    const kv = v.key(name);
    if (name === '') {
      v.add('tag name must be non-empty');
      ok = false;
    } else if (!TAG_NAME.test(name)) {
      kv.add('tag name must consist of alphanumeric characters, dots, dashes, slashes and underscores');
      ok = false;
    }
    if (typeof value !== 'string') {
      kv.add('tag value must be a string');
      ok = false;
    } else if (value === '') {
      kv.add('tag value must be non-empty');
      ok = false;
    } else if (!TAG_VALUE.test(value)) {
      kv.add('tag value must consist of alphanumeric characters, dots, dashes and underscores');
      ok = false;
    }
  }
  if (rules.requireService && !(SERVICE_TAG in tags)) {
    v.add(`mandatory tag "${SERVICE_TAG}" is missing`);
    ok = false;
  }
  return ok;
}
