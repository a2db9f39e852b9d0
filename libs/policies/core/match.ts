import type { JsonObject, Violations } from '../../resources/validation.ts';
import { object, objects, string } from './fields.ts';
import { MUST_BE_DEFINED, mustHaveExactlyOneOf } from './messages.ts';

/**
 * `rules[].matches[]` entries (api/common/v1alpha1/match.go): exactly one of
 * `spiffeID{type: Exact|Prefix, value}` or `sni{type: Exact, value}`, with Kuma's messages.
 */
export function validateMatches(obj: JsonObject, key: string, v: Violations): void {
  for (const { item, v: mv } of objects(obj, key, v, ['spiffeID', 'sni'])) validateMatch(item, mv);
}

const unrecognized = (type: unknown, supported: readonly string[]) =>
  `unrecognized type ${JSON.stringify(String(type ?? ''))}, supported values are: ${supported.join(', ')}`;

/** go-spiffe's spiffeid parse errors, for an exact SPIFFE ID. */
function spiffeIdError(value: string): string | undefined {
  if (!value.startsWith('spiffe://')) return 'scheme is missing or invalid';
  const rest = value.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const td = slash < 0 ? rest : rest.slice(0, slash);
  if (td === '') return 'trust domain is missing';
  if (!/^[a-z0-9._-]+$/.test(td)) return 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores';
  const path = slash < 0 ? '' : rest.slice(slash);
  if (path !== '') {
    const segments = path.split('/').slice(1);
    if (segments.some((s) => s === '')) return 'path cannot contain empty segments';
    if (segments.some((s) => s === '.' || s === '..')) return 'path cannot contain dot segments';
    if (segments.some((s) => !/^[a-zA-Z0-9._-]+$/.test(s))) return 'path segment characters are limited to letters, numbers, dots, dashes, and underscores';
  }
  return undefined;
}

export function validateMatch(m: JsonObject, v: Violations): void {
  const spiffe = object(m, 'spiffeID', v, ['type', 'value']);
  const sni = object(m, 'sni', v, ['type', 'value']);
  if ((spiffe === undefined) === (sni === undefined)) v.add(mustHaveExactlyOneOf('match', 'spiffeID', 'sni'));
  if (spiffe) {
    const sv = v.field('spiffeID');
    const type = spiffe['type'];
    const value = string(spiffe, 'value', sv);
    if (type !== 'Exact' && type !== 'Prefix') sv.field('type').add(unrecognized(type, ['Exact', 'Prefix']));
    if (!value) sv.field('value').add(MUST_BE_DEFINED);
    else {
      const err = type === 'Prefix' ? (value.startsWith('spiffe://') ? undefined : 'scheme is missing or invalid') : spiffeIdError(value);
      if (err) sv.add(`must be a valid Spiffe ID: ${err}`);
    }
  }
  if (sni) {
    const nv = v.field('sni');
    if (sni['type'] !== 'Exact') nv.field('type').add(unrecognized(sni['type'], ['Exact']));
    if (!string(sni, 'value', nv)) nv.field('value').add(MUST_BE_DEFINED);
  }
}
