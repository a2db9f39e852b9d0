import type { JsonObject, Violations } from '../../resources/validation.ts';
import { boolean, duration, enumOf, has, integer, object, objects, string } from '../core/fields.ts';
import { MUST_BE_DEFINED } from '../core/messages.ts';
import { validateOtelTarget } from '../core/otel.ts';
import { OBSERVABILITY_TOP_KINDS, singleItem } from '../core/single-item.ts';

const MATCH_TYPES = ['Regex', 'Prefix', 'Exact', 'Contains'];

/** Kuma's MeshMetric validator (validator.go). `v` is at `spec`. */
export function validateMeshMetric(spec: Readonly<JsonObject>, v: Violations): void {
  const conf = singleItem(spec, v, OBSERVABILITY_TOP_KINDS, ['sidecar', 'applications', 'backends']);
  if (!conf) return;
  const dv = v.field('default');
  const sidecar = object(conf, 'sidecar', dv, ['profiles', 'includeUnused', 'regex', 'usedOnly']);
  if (sidecar) {
    const sv = dv.field('sidecar');
    boolean(sidecar, 'includeUnused', sv);
    const profiles = object(sidecar, 'profiles', sv, ['appendProfiles', 'exclude', 'include']);
    if (profiles) {
      const pv = sv.field('profiles');
      for (const { item, v: av } of objects(profiles, 'appendProfiles', pv, ['name'])) enumOf(item, 'name', av, ['All', 'Basic', 'None'], true);
      for (const key of ['exclude', 'include']) {
        for (const { item, v: mv } of objects(profiles, key, pv, ['type', 'match'])) {
          enumOf(item, 'type', mv, MATCH_TYPES, true);
          if (!string(item, 'match', mv)) mv.field('match').add(MUST_BE_DEFINED);
        }
      }
    }
  }
  for (const { item, v: av } of objects(conf, 'applications', dv, ['name', 'path', 'address', 'port'])) {
    string(item, 'name', av);
    string(item, 'address', av);
    const path = string(item, 'path', av);
    if (path !== undefined && !path.startsWith('/')) av.field('path').add('must be a valid path');
    const port = integer(item, 'port', av, 0, 4294967295);
    // Absent is Go's zero, out of range like 0; a value that does not decode was reported already.
    if (port === undefined ? !has(item, 'port') : port === 0 || port > 65535) av.field('port').add('port must be a valid (1-65535)');
  }
  for (const { item: b, v: bv } of objects(conf, 'backends', dv, ['type', 'prometheus', 'openTelemetry'])) {
    const type = enumOf(b, 'type', bv, ['Prometheus', 'OpenTelemetry'], true);
    const prom = object(b, 'prometheus', bv, ['clientId', 'port', 'path', 'tls']);
    const otel = object(b, 'openTelemetry', bv, ['endpoint', 'refreshInterval', 'backendRef']);
    if (type === 'Prometheus' && !has(b, 'prometheus')) bv.field('prometheus').add(MUST_BE_DEFINED);
    if (type === 'OpenTelemetry' && !has(b, 'openTelemetry')) bv.field('openTelemetry').add(MUST_BE_DEFINED);
    if (prom) {
      const pv = bv.field('prometheus');
      string(prom, 'clientId', pv);
      const port = integer(prom, 'port', pv, 0, 4294967295);
      if (port !== undefined && (port === 0 || port > 65535)) pv.field('port').add('port must be a valid (1-65535)');
      const path = string(prom, 'path', pv);
      if (path !== undefined && !path.startsWith('/')) pv.field('path').add('must be a valid path');
      const tls = object(prom, 'tls', pv, ['mode']);
      if (tls) enumOf(tls, 'mode', pv.field('tls'), ['Disabled', 'ProvidedTLS', 'ActiveMTLSBackend'], true);
    }
    if (otel) {
      validateOtelTarget(otel, bv.field('openTelemetry'));
      duration(otel, 'refreshInterval', bv.field('openTelemetry'));
    }
  }
}
