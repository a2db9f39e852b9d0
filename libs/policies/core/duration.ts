/**
 * Go's time.ParseDuration, which Kuma's policy specs use through k8s `metav1.Duration`
 * (`1h30m`, `500ms`, `-1s`, `0`). Pure. Returns milliseconds, or the error text Go gives
 * (`time: invalid duration "abc"`), which Kuma shows verbatim when a spec does not decode.
 */
const UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export type ParsedDuration = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly error: string };

export function parseGoDuration(text: string): ParsedDuration {
  const invalid = (): ParsedDuration => ({ ok: false, error: `time: invalid duration ${JSON.stringify(text)}` });
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return { ok: true, ms: 0 };
  if (s === '') return invalid();
  let total = 0;
  // Go: a number (digits, optional fraction), then the unit: every character up to the next digit or '.'.
  const re = /^(\d*)(?:\.(\d*))?([^0-9.]*)/;
  while (s !== '') {
    const m = re.exec(s)!;
    const [all, whole = '', frac, unit = ''] = m;
    if (whole === '' && (frac === undefined || frac === '')) return invalid();
    if (unit === '') return { ok: false, error: `time: missing unit in duration ${JSON.stringify(text)}` };
    const factor = UNITS[unit];
    if (factor === undefined) return { ok: false, error: `time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}` };
    total += Number(`${whole || '0'}.${frac ?? '0'}`) * factor;
    s = s.slice(all.length);
  }
  // Go rejects durations beyond int64 nanoseconds (about 292 years).
  if (total > 9_223_372_036_854.775) return invalid();
  return { ok: true, ms: sign * total };
}
