import type { JsonObject, Violations } from '../../resources/validation.ts';
import { enumOf, object, objects, string } from './fields.ts';
import { MUST_BE_DEFINED, mustHaveExactlyOneOf } from './messages.ts';

/**
 * `rules[].matches[]` entries (api/common/v1alpha1/match.go): exactly one of
 * `spiffeID{type: Exact|Prefix, value}` or `sni{type: Exact, value}`.
 */
export function validateMatches(obj: JsonObject, key: string, v: Violations): void {
  for (const { item, v: mv } of objects(obj, key, v, ['spiffeID', 'sni'])) validateMatch(item, mv);
}

export function validateMatch(m: JsonObject, v: Violations): void {
  const spiffe = object(m, 'spiffeID', v, ['type', 'value']);
  const sni = object(m, 'sni', v, ['type', 'value']);
  if ((spiffe === undefined) === (sni === undefined)) v.add(mustHaveExactlyOneOf('match', 'spiffeID', 'sni'));
  if (spiffe) {
    enumOf(spiffe, 'type', v.field('spiffeID'), ['Exact', 'Prefix'], true);
    const value = string(spiffe, 'value', v.field('spiffeID'));
    if (!value) v.field('spiffeID').field('value').add(MUST_BE_DEFINED);
    else if (!value.startsWith('spiffe://')) v.field('spiffeID').field('value').add('must start with spiffe://');
  }
  if (sni) {
    enumOf(sni, 'type', v.field('sni'), ['Exact'], true);
    if (!string(sni, 'value', v.field('sni'))) v.field('sni').field('value').add(MUST_BE_DEFINED);
  }
}
