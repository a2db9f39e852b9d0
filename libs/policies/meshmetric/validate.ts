import type { JsonObject, Violations } from '../../resources/validation.ts';
import { boolean, duration, has, integer, object, objects, string } from '../core/fields.ts';
import { MUST_BE_DEFINED } from '../core/messages.ts';
import { validateOtelTarget } from '../core/otel.ts';
import { OBSERVABILITY_TOP_KINDS, singleItem } from '../core/single-item.ts';

const PORT = 'port must be a valid (1-65535)';

/**
 * Kuma's MeshMetric validator (validator.go). Kuma's own paths are kept, including its
 * `applications.application[i]` and `backends.backend[i]` nesting. `v` is at `spec`.
 */
export function validateMeshMetric(spec: Readonly<JsonObject>, v: Violations): void {
  const conf = singleItem(spec, v, OBSERVABILITY_TOP_KINDS, ['sidecar', 'applications', 'backends']);
  if (!conf) return;
  const dv = v.field('default');
  const sidecar = object(conf, 'sidecar', dv, ['profiles', 'includeUnused', 'regex', 'usedOnly']);
  if (sidecar) {
    const sv = dv.field('sidecar');
    boolean(sidecar, 'includeUnused', sv);
    boolean(sidecar, 'usedOnly', sv);
    const regex = string(sidecar, 'regex', sv);
    if (regex !== undefined && !compiles(regex)) sv.field('regex').add('invalid regex');
    const profiles = object(sidecar, 'profiles', sv, ['appendProfiles', 'exclude', 'include']);
    if (profiles) {
      const pv = sv.field('profiles');
      for (const key of ['exclude', 'include']) {
        for (const { item, v: mv } of objects(profiles, key, pv, ['type', 'match'])) {
          const type = item['type'];
          const match = string(item, 'match', mv) ?? '';
          if (type === 'Regex') {
            if (!compiles(match)) mv.field('match').add('invalid regex');
          } else if (type !== 'Prefix' && type !== 'Exact' && type !== 'Contains') {
            mv.field('type').add(`unrecognized type '${String(type ?? '')}' - 'regex', 'prefix', 'exact' are supported`);
          }
        }
      }
      for (const { item, v: av } of objects(profiles, 'appendProfiles', pv, ['name'])) {
        const name = item['name'];
        if (name !== 'All' && name !== 'None' && name !== 'Basic') av.field('name').add(`unrecognized profile name '${String(name ?? '')}' - 'all', 'none', 'basic' are supported`);
      }
    }
  }
  for (const { item, v: av, i } of objects(conf, 'applications', dv, ['name', 'path', 'address', 'port'])) {
    string(item, 'name', av);
    string(item, 'address', av);
    string(item, 'path', av);
    const port = integer(item, 'port', av, 0, 4294967295);
    if (!has(item, 'port') || (port !== undefined && (port === 0 || port > 65535))) dv.field('applications').field('application').index(i).add(PORT);
  }
  for (const { item: b, v: bv, i } of objects(conf, 'backends', dv, ['type', 'prometheus', 'openTelemetry'])) {
    const at = dv.field('backends').field('backend').index(i);
    const type = b['type'];
    const prom = object(b, 'prometheus', bv, ['clientId', 'port', 'path', 'tls']);
    const otel = object(b, 'openTelemetry', bv, ['endpoint', 'refreshInterval', 'backendRef']);
    if (type === 'Prometheus') {
      if (!prom) {
        if (!has(b, 'prometheus')) at.field('prometheus').add(MUST_BE_DEFINED);
      } else {
        string(prom, 'clientId', bv.field('prometheus'));
        string(prom, 'path', bv.field('prometheus'));
        const port = integer(prom, 'port', bv.field('prometheus'), 0, 4294967295);
        if (!has(prom, 'port') || (port !== undefined && (port === 0 || port > 65535))) at.field('port').add(PORT);
        const tls = object(prom, 'tls', bv.field('prometheus'), ['mode']);
        if (tls && !['Disabled', 'ProvidedTLS', 'ActiveMTLSBackend'].includes(String(tls['mode']))) {
          bv.field('prometheus').field('tls').field('mode').add('must be one of: Disabled, ProvidedTLS, ActiveMTLSBackend');
        }
      }
    } else if (type === 'OpenTelemetry') {
      if (!otel) {
        if (!has(b, 'openTelemetry')) at.field('openTelemetry').add(MUST_BE_DEFINED);
      } else {
        validateOtelTarget(otel, at.field('openTelemetry'));
        duration(otel, 'refreshInterval', bv.field('openTelemetry'));
      }
    } else at.add('unrecognized type');
  }
}

/** Whether Go's regexp would take it (RE2): JavaScript's syntax is close enough to reject malformed patterns. */
function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
