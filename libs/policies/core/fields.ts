import { isObject, type JsonObject, type Violations } from '../../resources/validation.ts';
import { MUST_BE_DEFINED } from './messages.ts';
import { parseGoDuration } from './duration.ts';

/**
 * Typed reads of a policy spec's fields, each adding a violation at the field's path when the
 * JSON has the wrong shape (what Kuma's strict decoding rejects before its validator runs).
 * Each returns `undefined` for an absent or malformed value, so validators only see good data.
 */

/** The object at `obj[key]` with only `allowed` keys; an extra key is `unknown field` (Kuma decodes strictly). */
export function object(obj: JsonObject, key: string, v: Violations, allowed: readonly string[]): JsonObject | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  const fv = v.field(key);
  if (!isObject(value)) {
    fv.add('must be an object');
    return undefined;
  }
  strict(value, fv, allowed);
  return value;
}

/** Adds `unknown field` for every key of `obj` outside `allowed`. */
export function strict(obj: JsonObject, v: Violations, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) v.field(k).add('unknown field');
}

/** The array at `obj[key]` (absent: undefined). */
export function array(obj: JsonObject, key: string, v: Violations): unknown[] | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    v.field(key).add('must be an array');
    return undefined;
  }
  return value;
}

/** Each element of the array at `obj[key]` that is an object with only `allowed` keys, with its index. */
export function objects(obj: JsonObject, key: string, v: Violations, allowed: readonly string[]): { item: JsonObject; v: Violations; i: number }[] {
  const list = array(obj, key, v) ?? [];
  const out: { item: JsonObject; v: Violations; i: number }[] = [];
  list.forEach((item, i) => {
    const iv = v.field(key).index(i);
    if (!isObject(item)) iv.add('must be an object');
    else {
      strict(item, iv, allowed);
      out.push({ item, v: iv, i });
    }
  });
  return out;
}

export function string(obj: JsonObject, key: string, v: Violations): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    v.field(key).add('must be a string');
    return undefined;
  }
  return value;
}

export function boolean(obj: JsonObject, key: string, v: Violations): boolean | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') {
    v.field(key).add('must be a boolean');
    return undefined;
  }
  return value;
}

/** An integer in [min, max] (Go's int32/uint32 decoding: a fraction or out-of-range number does not decode). */
export function integer(obj: JsonObject, key: string, v: Violations, min = -2147483648, max = 4294967295): number | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    v.field(key).add('must be an integer');
    return undefined;
  }
  if (value < min || value > max) {
    v.field(key).add(min === 0 ? 'must be a non-negative integer' : `must be an integer in [${min}, ${max}]`);
    return undefined;
  }
  return value;
}

/** A string map (labels, tags). */
export function stringMap(obj: JsonObject, key: string, v: Violations): Record<string, string> | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    v.field(key).add('must be an object');
    return undefined;
  }
  let ok = true;
  for (const [k, val] of Object.entries(value)) {
    if (typeof val !== 'string') {
      v.field(key).key(k).add('must be a string');
      ok = false;
    }
  }
  return ok ? (value as Record<string, string>) : undefined;
}

/** A string from `allowed`; Kuma's enums (kubebuilder `Enum`) reject anything else. */
export function enumOf<T extends string>(obj: JsonObject, key: string, v: Violations, allowed: readonly T[], required = false): T | undefined {
  const value = obj[key];
  if (value === undefined || value === null) {
    if (required) v.field(key).add(MUST_BE_DEFINED);
    return undefined;
  }
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    v.field(key).add(`must be one of: ${allowed.join(', ')}`);
    return undefined;
  }
  return value as T;
}

/**
 * A Go duration (`1h30m`, `500ms`), as milliseconds. A malformed one is reported with Go's
 * own message, since Kuma cannot decode the spec.
 */
export function duration(obj: JsonObject, key: string, v: Violations): number | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    v.field(key).add('must be a duration string such as "1h30m" or "500ms"');
    return undefined;
  }
  const parsed = parseGoDuration(value);
  if (!parsed.ok) {
    v.field(key).add(parsed.error);
    return undefined;
  }
  return parsed.ms;
}

/** Whether the key is present with a non-null value (Go's non-nil pointer). */
export const has = (obj: JsonObject, key: string): boolean => obj[key] !== undefined && obj[key] !== null;

/** Whether the array at key is present and non-empty (Go's `len(x) > 0`). */
export const nonEmpty = (obj: JsonObject, key: string): boolean => Array.isArray(obj[key]) && (obj[key] as unknown[]).length > 0;
