import { isObject, type JsonObject, type Violations } from '../../resources/validation.ts';
import { array, integer } from './fields.ts';
import { MUST_BE_DEFINED } from './messages.ts';
import { validateTargetRef } from './validate-target-ref.ts';

/** The kinds a route may send traffic to. */
const BACKEND_KINDS = ['MeshService', 'MeshServiceSubset', 'MeshExternalService', 'MeshMultiZoneService'] as const;

/**
 * `backendRefs[]` (common_api.BackendRef: a targetRef plus `weight` and `port`): each targetRef
 * per Kuma's rules, a MeshMultiZoneService needs a `port`, weights are non-negative integers.
 * `v` is at the list. Returns how many entries there are (0 when absent).
 */
export function validateBackendRefs(obj: JsonObject, key: string, v: Violations, allowedInvalidNames: readonly string[] = []): number {
  const list = array(obj, key, v) ?? [];
  list.forEach((b, i) => {
    const bv = v.field(key).index(i);
    if (!isObject(b)) return bv.add('must be an object');
    const { weight: _w, port: _p, ...ref } = b;
    validateTargetRef(ref, bv, { supportedKinds: BACKEND_KINDS, allowedInvalidNames });
    integer(b, 'weight', bv, 0, 4294967295);
    const port = integer(b, 'port', bv, 0, 4294967295);
    if (b['kind'] === 'MeshMultiZoneService' && port === undefined && b['port'] === undefined) bv.field('port').add(`${MUST_BE_DEFINED} with kind MeshMultiZoneService`);
  });
  return list.length;
}
