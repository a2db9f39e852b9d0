import { decodeYaml, DecodeError } from '../../resources/decode.ts';
import { isObject, type JsonObject, type Violations } from '../../resources/validation.ts';
import { has, object, objects, string } from '../core/fields.ts';
import { MUST_BE_DEFINED, MUST_NOT_BE_DEFINED, MUST_NOT_BE_EMPTY, mustHaveExactlyOneOf, mustHaveOnlyOne } from '../core/messages.ts';
import { OBSERVABILITY_TOP_KINDS, singleItem } from '../core/single-item.ts';
import { MODIFICATION_KINDS } from './api.ts';

const NAME_FILTER_BEFORE = 'must be defined. You need to pick a filter before which this one will be added';
const NAME_FILTER_AFTER = 'must be defined. You need to pick a filter after which this one will be added';
const MATCH_FIELDS: Readonly<Record<string, readonly string[]>> = {
  cluster: ['name', 'origin'],
  listener: ['name', 'origin', 'tags'],
  networkFilter: ['name', 'listenerName', 'listenerTags', 'origin'],
  httpFilter: ['name', 'listenerName', 'listenerTags', 'origin'],
  virtualHost: ['name', 'origin', 'routeConfigurationName'],
};
const JSON_PATCH_OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'];
const operations = (...ops: string[]) => `invalid operation. Available operations: ${ops.map((o) => JSON.stringify(o)).join(', ')}`;

/**
 * Kuma's MeshProxyPatch validator (validator.go), with its messages. Kuma also decodes `value`
 * into the Envoy message it stands for; here `value` must be YAML of an object (a mapping), and
 * whether it is a valid Envoy resource is decided where it is applied. `v` is at `spec`.
 */
export function validateMeshProxyPatch(spec: Readonly<JsonObject>, v: Violations): void {
  // MeshGateway listener tags are not allowed here (Kuma: GatewayListenerTagsAllowed false).
  const conf = singleItem(spec, v, OBSERVABILITY_TOP_KINDS, ['appendModifications'], false);
  if (!conf) return;
  const dv = v.field('default');
  const mods = objects(conf, 'appendModifications', dv, MODIFICATION_KINDS);
  if (mods.length === 0) dv.field('appendModifications').add(MUST_NOT_BE_EMPTY);
  for (const { item, v: mv } of mods) {
    const present = MODIFICATION_KINDS.filter((k) => has(item, k));
    if (present.length !== 1) {
      mv.add(`exactly one modification can be defined at a time. Currently, ${present.length} modifications are defined`);
      continue;
    }
    const kind = present[0]!;
    const m = object(item, kind, mv, ['operation', 'match', 'value', 'jsonPatches']);
    if (m) validateModification(kind, m, mv.field(kind));
  }
}

function validateModification(kind: string, m: JsonObject, v: Violations): void {
  const match = object(m, 'match', v, MATCH_FIELDS[kind]!);
  const value = string(m, 'value', v);
  const op = m['operation'];
  const filter = kind === 'networkFilter' || kind === 'httpFilter';
  const matchName = match !== undefined && typeof match['name'] === 'string';
  switch (op) {
    case 'Add':
      if (filter) return v.field('operation').add(operations('AddFirst', 'AddLast', 'AddBefore', 'AddAfter', 'Patch', 'Remove'));
      if (kind === 'virtualHost' ? matchName : has(m, 'match')) v.field(kind === 'virtualHost' ? 'match.name' : 'match').add(MUST_NOT_BE_DEFINED);
      return resourceValue(value, v.field('value'));
    case 'AddFirst':
    case 'AddLast':
    case 'AddBefore':
    case 'AddAfter':
      if (!filter) return v.field('operation').add(operations('Add', 'Patch', 'Remove'));
      if (op === 'AddBefore' && !matchName) v.field('match').field('name').add(NAME_FILTER_BEFORE);
      if (op === 'AddAfter' && !matchName) v.field('match').field('name').add(NAME_FILTER_AFTER);
      return resourceValue(value, v.field('value'));
    case 'Patch':
      if (filter && !matchName) v.field('match').field('name').add(MUST_BE_DEFINED);
      return patch(m, value, v);
    case 'Remove':
      if (value !== undefined) v.field('value').add(MUST_NOT_BE_DEFINED);
      return;
    default:
      v.field('operation').add(filter ? operations('AddFirst', 'AddLast', 'AddBefore', 'AddAfter', 'Patch', 'Remove') : operations('Add', 'Patch', 'Remove'));
  }
}

function resourceValue(value: string | undefined, v: Violations): void {
  if (value === undefined) return v.add(MUST_BE_DEFINED);
  try {
    const parsed = decodeYaml(value);
    if (!isObject(parsed)) v.add('native Envoy resource is not valid: must be a YAML mapping');
  } catch (err) {
    v.add(`native Envoy resource is not valid: ${err instanceof DecodeError ? err.message : String(err)}`);
  }
}

function patch(m: JsonObject, value: string | undefined, v: Violations): void {
  const patches = objects(m, 'jsonPatches', v, ['op', 'path', 'value', 'from']);
  const hasPatches = Array.isArray(m['jsonPatches']) && m['jsonPatches'].length > 0;
  if (value !== undefined) {
    if (hasPatches) v.add(mustHaveOnlyOne(v.path, 'value', 'jsonPatches'));
    else resourceValue(value, v.field('value'));
    return;
  }
  if (!hasPatches) return v.add(mustHaveExactlyOneOf(v.path, 'value', 'jsonPatches'));
  for (const { item: p, v: pv } of patches) {
    const op = p['op'];
    if (!JSON_PATCH_OPS.includes(String(op))) pv.field('op').add(`must be one of: ${JSON_PATCH_OPS.join(', ')}`);
    const path = string(p, 'path', pv);
    if (path === undefined || path === '') pv.field('path').add(MUST_BE_DEFINED);
    else if (!path.startsWith('/')) pv.field('path').add('must be a JSON pointer (start with /)');
    if ((op === 'move' || op === 'copy') && !string(p, 'from', pv)) pv.field('from').add(MUST_BE_DEFINED);
  }
}
