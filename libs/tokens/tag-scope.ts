import { isObject, type JsonObject } from '../resources/validation.ts';

/** Every value of every tag a Dataplane declares (inbounds and gateway), as Kuma's `TagSet()`. */
export function dataplaneTagSet(spec: Readonly<JsonObject>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (tags: unknown) => {
    if (!isObject(tags)) return;
    for (const [k, v] of Object.entries(tags)) {
      if (typeof v !== 'string') continue;
      let values = out.get(k);
      if (!values) out.set(k, (values = new Set()));
      values.add(v);
    }
  };
  const net = spec['networking'];
  if (isObject(net)) {
    if (Array.isArray(net['inbound'])) for (const inbound of net['inbound']) if (isObject(inbound)) add(inbound['tags']);
    if (isObject(net['gateway'])) add(net['gateway']['tags']);
  }
  return out;
}

/**
 * Kuma's rule for a token bound to tags: the Dataplane must have every tag the token names,
 * and each of its values of that tag must be one the token allows. Returns the reason it
 * fails, or undefined when the Dataplane is in the token's scope.
 */
export function tagScopeViolation(tokenTags: Readonly<Record<string, readonly string[]>>, spec: Readonly<JsonObject>): string | undefined {
  const names = Object.keys(tokenTags);
  if (names.length === 0) return undefined;
  const dp = dataplaneTagSet(spec);
  for (const name of names) {
    const allowed = tokenTags[name] ?? [];
    const values = dp.get(name);
    if (!values) return `dataplane has no tag "${name}" required by the token`;
    for (const value of values) {
      if (!allowed.includes(value)) {
        return `dataplane contains tag "${name}" with value "${value}" which is not allowed with this token. Allowed values in token are ${JSON.stringify(allowed)}`;
      }
    }
  }
  return undefined;
}
