/** Durations as Kuma writes them: `24h`, `30m`, `90s`, `1h30m`. */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n / 1000 : m[2] === 's' ? n : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n * 86400;
    consumed += m[0].length;
  }
  if (s === '' || consumed !== s.length) throw new Error(`invalid duration "${s}": use e.g. 24h, 30m, 1h30m`);
  return total;
}
