import type { JsonObject, Violations } from '../../resources/validation.ts';
import { enumOf, has, object, objects, string } from '../core/fields.ts';
import { MUST_BE_DEFINED, MUST_NOT_BE_EMPTY } from '../core/messages.ts';
import { OBSERVABILITY_TOP_KINDS, singleItem } from '../core/single-item.ts';
import { MODIFICATION_KINDS } from './api.ts';

const OPERATIONS: Readonly<Record<string, readonly string[]>> = {
  cluster: ['Add', 'Remove', 'Patch'],
  listener: ['Add', 'Remove', 'Patch'],
  networkFilter: ['AddFirst', 'AddLast', 'AddBefore', 'AddAfter', 'Remove', 'Patch'],
  httpFilter: ['AddFirst', 'AddLast', 'AddBefore', 'AddAfter', 'Remove', 'Patch'],
  virtualHost: ['Add', 'Remove', 'Patch'],
};
const MATCH_FIELDS: Readonly<Record<string, readonly string[]>> = {
  cluster: ['name', 'origin'],
  listener: ['name', 'origin', 'tags'],
  networkFilter: ['name', 'listenerName', 'listenerTags', 'origin'],
  httpFilter: ['name', 'listenerName', 'listenerTags', 'origin'],
  virtualHost: ['name', 'origin', 'routeConfigurationName'],
};
const JSON_PATCH_OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'];

/**
 * Kuma's MeshProxyPatch validator: structure, operations and JSON patches. Whether `value` is a
 * valid Envoy resource is checked where it is applied (translation), not here. `v` is at `spec`.
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
      mv.add(`must have exactly one defined: ${MODIFICATION_KINDS.join(', ')}`);
      continue;
    }
    const kind = present[0]!;
    const m = object(item, kind, mv, ['operation', 'match', 'value', 'jsonPatches']);
    if (!m) continue;
    const kv = mv.field(kind);
    const op = enumOf(m, 'operation', kv, OPERATIONS[kind]!, true);
    object(m, 'match', kv, MATCH_FIELDS[kind]!);
    const value = string(m, 'value', kv);
    const patches = objects(m, 'jsonPatches', kv, ['op', 'path', 'value', 'from']);
    for (const { item: p, v: pv } of patches) {
      enumOf(p, 'op', pv, JSON_PATCH_OPS, true);
      const path = string(p, 'path', pv);
      if (path === undefined) pv.field('path').add(MUST_BE_DEFINED);
      else if (path !== '' && !path.startsWith('/')) pv.field('path').add('must be a JSON pointer (start with /)');
    }
    if (op && op.startsWith('Add') && value === undefined) kv.field('value').add(MUST_BE_DEFINED);
    if (op === 'Patch' && value === undefined && patches.length === 0) kv.add('value or jsonPatches has to be defined');
    if (op === 'Patch' && value !== undefined && patches.length > 0) kv.add('value and jsonPatches cannot be defined at the same time');
  }
}
