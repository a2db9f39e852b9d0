/** `key=value` flag values (repeatable, or comma-separated) as pairs; a malformed one is an error naming `flag`. */
export function keyValuePairs(flag: string, list: readonly string[]): [string, string][] {
  return list
    .flatMap((s) => s.split(','))
    .map((kv) => {
      const at = kv.indexOf('=');
      if (at <= 0) throw new Error(`${flag}: expected key=value, got "${kv}"`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    });
}
