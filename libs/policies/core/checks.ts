import type { JsonObject, Violations } from '../../resources/validation.ts';
import { duration, integer } from './fields.ts';
import {
  HAS_TO_BE_GREATER_THAN_ZERO,
  IN_PERCENTAGE_RANGE,
  IN_UINT_PERCENTAGE_RANGE,
  inRange,
  MUST_BE_DEFINED,
  MUST_BE_DEFINED_AND_GREATER_THAN_ZERO,
  MUST_HAVE_BPS_UNIT,
  STRING_HAS_TO_BE_VALID_NUMBER,
  WHEN_DEFINED_GREATER_THAN_ZERO,
  WHEN_DEFINED_NON_NEGATIVE,
  WHEN_DEFINED_VALID_PATH,
} from './messages.ts';

/**
 * Kuma's common validators (pkg/core/validators/common_validators.go) over raw JSON: each reads
 * `obj[key]`, reports a malformed value as its decoder would, then applies Kuma's rule with
 * Kuma's message. Pure.
 */

export function durationNotNegativeOrNil(obj: JsonObject, key: string, v: Violations): void {
  const ms = duration(obj, key, v);
  if (ms !== undefined && ms < 0) v.field(key).add(WHEN_DEFINED_NON_NEGATIVE);
}

export function durationGreaterThanZeroOrNil(obj: JsonObject, key: string, v: Violations): void {
  const ms = duration(obj, key, v);
  if (ms !== undefined && ms <= 0) v.field(key).add(WHEN_DEFINED_GREATER_THAN_ZERO);
}

/** ValidateDurationNotNegative: required. */
export function durationNotNegative(obj: JsonObject, key: string, v: Violations): void {
  if (obj[key] === undefined || obj[key] === null) return v.field(key).add(MUST_BE_DEFINED);
  durationNotNegativeOrNil(obj, key, v);
}

/** ValidateDurationGreaterThanZero (a non-pointer k8s Duration: absent is zero). */
export function durationGreaterThanZero(obj: JsonObject, key: string, v: Violations): void {
  if (obj[key] === undefined || obj[key] === null) return v.field(key).add(MUST_BE_DEFINED_AND_GREATER_THAN_ZERO);
  const ms = duration(obj, key, v);
  if (ms !== undefined && ms <= 0) v.field(key).add(MUST_BE_DEFINED_AND_GREATER_THAN_ZERO);
}

/** ValidateIntegerGreaterThanZeroOrNil on a uint32. */
export function uintGreaterThanZeroOrNil(obj: JsonObject, key: string, v: Violations): void {
  const n = integer(obj, key, v, 0, 4294967295);
  if (n !== undefined && n <= 0) v.field(key).add(HAS_TO_BE_GREATER_THAN_ZERO);
}

/** ValidateValueGreaterThanZeroOrNil on an int32. */
export function intGreaterThanZeroOrNil(obj: JsonObject, key: string, v: Violations): void {
  const n = integer(obj, key, v, -2147483648, 2147483647);
  if (n !== undefined && n <= 0) v.field(key).add(WHEN_DEFINED_GREATER_THAN_ZERO);
}

/** ValidateIntPercentageOrNil (int32, 0-100). */
export function intPercentageOrNil(obj: JsonObject, key: string, v: Violations): void {
  const n = integer(obj, key, v, -2147483648, 2147483647);
  if (n !== undefined && (n < 0 || n > 100)) v.field(key).add(IN_UINT_PERCENTAGE_RANGE);
}

/** ValidateUInt32PercentageOrNil. */
export function uintPercentageOrNil(obj: JsonObject, key: string, v: Violations): void {
  const n = integer(obj, key, v, 0, 4294967295);
  if (n !== undefined && n > 100) v.field(key).add(IN_UINT_PERCENTAGE_RANGE);
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Kuma's IntOrString number (`common_api.NewDecimalFromIntOrString`): an integer, or a string
 * holding a decimal (`"99.5"`). Returns the number, `'invalid'` for a string that is not one,
 * or undefined when absent. A JSON fraction (99.5 unquoted) does not decode as IntOrString.
 */
export function intOrStringNumber(obj: JsonObject, key: string, v: Violations): number | 'invalid' | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value;
    v.field(key).add('must be an integer or a string holding a decimal number (e.g. "99.5")');
    return undefined;
  }
  if (typeof value === 'string') return DECIMAL.test(value) ? Number(value) : 'invalid';
  v.field(key).add('must be an integer or a string holding a decimal number (e.g. "99.5")');
  return undefined;
}

/** ValidatePercentage: required; decimal in [0, 100]; 0 only when `allow0`. */
export function percentage(obj: JsonObject, key: string, v: Violations, allow0 = true): void {
  if (obj[key] === undefined || obj[key] === null) return v.field(key).add(MUST_BE_DEFINED);
  const n = intOrStringNumber(obj, key, v);
  if (n === undefined) return;
  if (n === 'invalid') return v.field(key).add(STRING_HAS_TO_BE_VALID_NUMBER);
  if (n < 0 || n > 100) v.field(key).add(IN_PERCENTAGE_RANGE);
  else if (!allow0 && n === 0) v.field(key).add(HAS_TO_BE_GREATER_THAN_ZERO);
}

/** ValidatePercentageOrNil. */
export function percentageOrNil(obj: JsonObject, key: string, v: Violations): void {
  if (obj[key] === undefined || obj[key] === null) return;
  percentage(obj, key, v);
}

/** ValidateIntOrStringGreaterOrEqualThan. */
export function intOrStringAtLeast(obj: JsonObject, key: string, v: Violations, min: number): void {
  const n = intOrStringNumber(obj, key, v);
  if (n === undefined) return;
  if (n === 'invalid') v.field(key).add(STRING_HAS_TO_BE_VALID_NUMBER);
  else if (n < min) v.field(key).add(`must be greater or equal then: ${min}`);
}

/** ValidateStatusCode: 100-599 (a non-pointer int32: absent is 0, out of range). */
export function statusCode(obj: JsonObject, key: string, v: Violations): void {
  statusCodeValue(obj[key] ?? 0, v.field(key));
}

export function statusCodeValue(value: unknown, v: Violations): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) return v.add('must be an integer');
  if (value < 100 || value >= 600) v.add(inRange(100, 599));
}

const BANDWIDTH = /^(\d*)\s?([GMk]+bps)$/;

/** ValidateBandwidth: `10kbps`, `5 Mbps`, `1Gbps`. */
export function bandwidth(obj: JsonObject, key: string, v: Violations): void {
  bandwidthValue(obj[key], v.field(key));
}

/** ValidateBandwidth on a value, reported at `v` itself. */
export function bandwidthValue(value: unknown, v: Violations): void {
  if (value === undefined || value === null || value === '') return v.add(MUST_BE_DEFINED);
  if (typeof value !== 'string' || !BANDWIDTH.test(value)) v.add(MUST_HAVE_BPS_UNIT);
}

/** govalidator.IsFilePath, roughly: an absolute Unix path or a Windows drive path. */
export function pathOrNil(obj: JsonObject, key: string, v: Violations): void {
  const value = obj[key];
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || !isFilePath(value)) v.field(key).add(WHEN_DEFINED_VALID_PATH);
}

export function isFilePath(p: string): boolean {
  if (/^[a-zA-Z]:\\/.test(p)) return p.length < 32767;
  return /^((\/|\.\.?\/)?[^\0]*)$/.test(p) && p.startsWith('/');
}

/** Go's time.Duration String() for the few minimums Kuma compares against (`50ms`, `1s`). */
const goDurationString = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** ValidateDurationGreaterThan: required, strictly above `minMs`. */
export function durationGreaterThan(obj: JsonObject, key: string, v: Violations, minMs: number): void {
  if (obj[key] === undefined || obj[key] === null) return v.field(key).add(MUST_BE_DEFINED);
  const ms = duration(obj, key, v);
  if (ms !== undefined && ms <= minMs) v.field(key).add(`must be greater than: ${goDurationString(minMs)}`);
}
