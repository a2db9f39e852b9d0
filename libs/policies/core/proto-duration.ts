import { parseGoDuration } from './duration.ts';

/** Durations in translation: Go duration strings (validated by `duration.ts`) as protobuf Durations. */

/** A duration a validator should have rejected reached a plugin. */
export class InvalidDurationError extends Error {
  override readonly name: string = 'InvalidDurationError';
}
/** The name the routing plugins catch (a bad duration skips that item instead of failing the proxy). */
export class DurationSyntaxError extends InvalidDurationError {
  override readonly name = 'DurationSyntaxError';
}

const UNIT_NS: Record<string, bigint> = { ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
const PART = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;

/** A Go duration in nanoseconds (bigint: Go's range is int64), exact. Throws DurationSyntaxError. */
export function parseDurationNs(text: string): bigint {
  let rest = text;
  let sign = 1n;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1n;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') throw new DurationSyntaxError(`invalid duration "${text}"`);
  let total = 0n;
  while (rest.length > 0) {
    const m = PART.exec(rest);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new DurationSyntaxError(`invalid duration "${text}"`);
    const unit = UNIT_NS[m[3]!]!;
    const frac = m[2] ?? '';
    total += BigInt(m[1] || '0') * unit + (frac === '' ? 0n : (BigInt(frac) * unit) / 10n ** BigInt(frac.length));
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

export type ProtoDuration = { seconds: number; nanos?: number };

/** A Go duration (`5s`, `1h30m`, `500ms`) as a google.protobuf.Duration body; whole seconds have no `nanos`. */
export function protoDuration(text: string): ProtoDuration {
  if (!parseGoDuration(text).ok) throw new DurationSyntaxError(`invalid duration "${text}"`);
  const ns = parseDurationNs(text);
  const seconds = ns / 1_000_000_000n;
  const nanos = ns % 1_000_000_000n;
  return nanos === 0n ? { seconds: Number(seconds) } : { seconds: Number(seconds), nanos: Number(nanos) };
}

/** Milliseconds as a google.protobuf.Duration body; whole seconds have no `nanos`. */
export function msToProto(ms: number): ProtoDuration {
  const seconds = Math.trunc(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos === 0 ? { seconds } : { seconds, nanos };
}

/** `text` when set, otherwise the default (Kuma's `toProtoDurationOrDefault`). */
export const durationOr = (text: string | undefined, defaultMs: number): ProtoDuration => (text === undefined ? msToProto(defaultMs) : protoDuration(text));
