/**
 * Go's time.Duration.String() for whole nanoseconds given in milliseconds (`1m0s`, `1h30m0s`,
 * `10s`, `1.5s`, `500ms`): how a k8s metav1.Duration appears in JSON Kuma writes. Pure.
 */
export function formatGoDuration(ms: number): string {
  let ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  ns = Math.abs(ns);
  const frac = (n: number, digits: number) => {
    const s = String(n).padStart(digits, '0').replace(/0+$/, '');
    return s === '' ? '' : `.${s}`;
  };
  if (ns < 1e9) {
    if (ns < 1e3) return `${sign}${ns}ns`;
    if (ns < 1e6) return `${sign}${Math.floor(ns / 1e3)}${frac(ns % 1e3, 3)}µs`;
    return `${sign}${Math.floor(ns / 1e6)}${frac(ns % 1e6, 6)}ms`;
  }
  const totalSeconds = Math.floor(ns / 1e9);
  const seconds = `${totalSeconds % 60}${frac(ns % 1e9, 9)}s`;
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes === 0) return `${sign}${seconds}`;
  const hours = Math.floor(minutes / 60);
  return hours === 0 ? `${sign}${minutes}m${seconds}` : `${sign}${hours}h${minutes % 60}m${seconds}`;
}
