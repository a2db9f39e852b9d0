import type { JsonObject, Violations } from '../../resources/validation.ts';
import { has, object, stringMap, string } from './fields.ts';
import { mustHaveExactlyOneOf, mustHaveOnlyOne } from './messages.ts';

/**
 * Kuma's ValidateOtelBackendRefOrEndpoint: an OpenTelemetry backend names exactly one of
 * `endpoint` (host:port, not a URL) or `backendRef` (a MeshOpenTelemetryBackend by name or labels).
 * `v` is at the `openTelemetry` object.
 */
export function validateOtelTarget(otel: JsonObject, v: Violations): void {
  const endpoint = string(otel, 'endpoint', v) ?? '';
  const ref = object(otel, 'backendRef', v, ['kind', 'name', 'labels']);
  if (endpoint !== '' && has(otel, 'backendRef')) return v.add(mustHaveOnlyOne('openTelemetry', 'endpoint', 'backendRef'));
  if (endpoint === '' && !has(otel, 'backendRef')) return v.add(mustHaveExactlyOneOf('openTelemetry', 'endpoint', 'backendRef'));
  if (ref) {
    const rv = v.field('backendRef');
    if (ref['kind'] !== 'MeshOpenTelemetryBackend') rv.field('kind').add('"kind" must be one of ["MeshOpenTelemetryBackend"]');
    const name = string(ref, 'name', rv) ?? '';
    const labels = stringMap(ref, 'labels', rv) ?? {};
    if (name === '' && Object.keys(labels).length === 0) rv.add(mustHaveExactlyOneOf('backendRef', 'name', 'labels'));
    if (name !== '' && Object.keys(labels).length > 0) rv.add(mustHaveOnlyOne('backendRef', 'name', 'labels'));
  } else if (/[/?#]/.test(endpoint)) v.field('endpoint').add('must be in host:port format, not a URL');
}
