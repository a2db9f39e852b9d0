import { isObject, type JsonObject, type Violations } from './validation.ts';

/** Adds `unknown field` for every key of `obj` not in `allowed` (Kuma decodes specs strictly). */
export function rejectUnknownFields(obj: JsonObject, allowed: readonly string[], v: Violations): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) v.field(key).add('unknown field');
  }
}

/** Returns the object at `value`, or adds `must be an object` and returns undefined. */
export function objectAt(value: unknown, v: Violations): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    v.add('must be an object');
    return undefined;
  }
  return value;
}

export function arrayAt(value: unknown, v: Violations): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    v.add('must be an array');
    return [];
  }
  return value;
}

export function isPort(n: unknown, min = 1): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= 65535;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIP(s: string): boolean {
  if (IPV4.test(s)) return true;
  // IPv6: let the URL parser decide, it implements RFC 4291 text forms.
  if (!s.includes(':')) return false;
  try {
    return new URL(`http://[${s}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

const DNS_NAME = /^(?=.{1,253}$)([a-zA-Z0-9_]([-a-zA-Z0-9_]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9_]([-a-zA-Z0-9_]{0,61}[a-zA-Z0-9])?)*\.?$/;

export function isDNSName(s: string): boolean {
  return DNS_NAME.test(s);
}
