/**
 * Go durations (`time.ParseDuration`), as Kuma's policies write them: `5s`, `1h30m`, `500ms`,
 * `1.5s`, `0`. Units: ns, us (µs), ms, s, m, h.
 */
export class DurationSyntaxError extends Error {
  override readonly name = 'DurationSyntaxError';
}

const UNIT_NS: Record<string, bigint> = { ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
const PART = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;

/** A Go duration in nanoseconds (bigint: Go's range is int64). Throws DurationSyntaxError. */
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

/** A Go duration as a protobuf Duration in proto-JSON object form (`{seconds, nanos}`), as the drafts hold it. */
export function protoDuration(text: string): { seconds: number; nanos?: number } {
  const ns = parseDurationNs(text);
  const seconds = ns / 1_000_000_000n;
  const nanos = ns % 1_000_000_000n;
  return nanos === 0n ? { seconds: Number(seconds) } : { seconds: Number(seconds), nanos: Number(nanos) };
}
