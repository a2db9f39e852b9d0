const made = new WeakMap<object, Map<string, unknown>>();

/**
 * What `make` returns for `rule` and `tag`, made once: the engine hands the same rule objects to
 * every proxy whose rules are shared, and a plugin that returns the same value for the same rule
 * (rather than a fresh wrapper such as `{ kind, protocol, conf }` for every part of every proxy)
 * lets the translator key it by identity instead of by content, and renders it once. `make` must
 * depend only on `rule` and on what `tag` names; `undefined` is remembered too.
 */
export function once<T>(rule: object, tag: string, make: () => T): T {
  let byTag = made.get(rule);
  if (!byTag) made.set(rule, (byTag = new Map()));
  if (byTag.has(tag)) return byTag.get(tag) as T;
  const value = make();
  byTag.set(tag, value);
  return value;
}
