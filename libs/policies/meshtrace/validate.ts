import type { JsonObject, Violations } from '../../resources/validation.ts';
import { intOrStringNumber } from '../core/checks.ts';
import { boolean, enumOf, has, object, objects, string } from '../core/fields.ts';
import { MUST_BE_DEFINED, MUST_NOT_BE_DEFINED, MUST_NOT_BE_EMPTY, mustHaveOnlyOne } from '../core/messages.ts';
import { validateOtelTarget } from '../core/otel.ts';
import { OBSERVABILITY_TOP_KINDS, singleItem } from '../core/single-item.ts';

/** Kuma's MeshTrace validator (validator.go), system role. `v` is at `spec`. */
export function validateMeshTrace(spec: Readonly<JsonObject>, v: Violations): void {
  const conf = singleItem(spec, v, OBSERVABILITY_TOP_KINDS, ['backends', 'sampling', 'tags'], false);
  if (!conf) return;
  const dv = v.field('default');
  if (!has(conf, 'backends')) dv.field('backends').add(MUST_BE_DEFINED);
  const backends = objects(conf, 'backends', dv, ['type', 'zipkin', 'datadog', 'openTelemetry']);
  if (backends.length > 1) dv.field('backends').add('must have zero or one backend defined');
  else if (backends.length === 1) validateBackend(backends[0]!.item, backends[0]!.v);
  for (const { item: t, v: tv } of objects(conf, 'tags', dv, ['name', 'literal', 'header'])) {
    if (!string(t, 'name', tv)) tv.field('name').add(MUST_NOT_BE_EMPTY);
    const literal = string(t, 'literal', tv);
    const header = object(t, 'header', tv, ['name', 'default']);
    if ((header !== undefined) === (literal !== undefined)) tv.add(mustHaveOnlyOne('tag', 'header', 'literal'));
    if (header) {
      string(header, 'name', tv.field('header'));
      string(header, 'default', tv.field('header'));
    }
  }
  const sampling = object(conf, 'sampling', dv, ['overall', 'client', 'random']);
  if (sampling) {
    for (const k of ['client', 'random', 'overall']) {
      const n = intOrStringNumber(sampling, k, dv.field('sampling'));
      if (n === undefined) continue;
      if (n === 'invalid') dv.field('sampling').field(k).add('string is not a number');
      else if (n < 0 || n > 100) dv.field('sampling').field(k).add('must be between 0 and 100');
    }
  }
}

function validateBackend(b: JsonObject, bv: Violations): void {
  const type = enumOf(b, 'type', bv, ['Zipkin', 'Datadog', 'OpenTelemetry'], true);
  const zipkin = object(b, 'zipkin', bv, ['url', 'traceId128bit', 'apiVersion', 'sharedSpanContext']);
  const datadog = object(b, 'datadog', bv, ['url', 'splitService']);
  const otel = object(b, 'openTelemetry', bv, ['endpoint', 'backendRef']);
  switch (type) {
    case 'Datadog': {
      if (!datadog) return void (has(b, 'datadog') || bv.field('datadog').add(MUST_BE_DEFINED));
      boolean(datadog, 'splitService', bv.field('datadog'));
      const uv = bv.field('datadog').field('url');
      const raw = string(datadog, 'url', bv.field('datadog')) ?? '';
      let url: URL;
      try {
        // Go's url.ParseRequestURI: an absolute URL.
        url = new URL(raw);
      } catch {
        return uv.add('must be a valid url');
      }
      if (url.protocol !== 'http:') uv.add('scheme must be http');
      if (url.port === '') uv.add(`port ${MUST_BE_DEFINED}`);
      else if (Number(url.port) === 0 || Number(url.port) > 65535) uv.add('port must be a valid (1-65535)');
      const parts: [string, boolean][] = [
        ['user', url.username !== '' || url.password !== ''],
        ['path', url.pathname !== '/' && url.pathname !== ''],
        ['query', url.search !== ''],
        ['fragment', url.hash !== ''],
      ];
      for (const [name, set] of parts) if (set) uv.add(`${name} ${MUST_NOT_BE_DEFINED}`);
      return;
    }
    case 'Zipkin': {
      if (!zipkin) return void (has(b, 'zipkin') || bv.field('zipkin').add(MUST_BE_DEFINED));
      const zv = bv.field('zipkin');
      enumOf(zipkin, 'apiVersion', zv, ['httpJson', 'httpProto']);
      boolean(zipkin, 'traceId128bit', zv);
      boolean(zipkin, 'sharedSpanContext', zv);
      const url = string(zipkin, 'url', zv) ?? '';
      if (url === '') zv.field('url').add(MUST_NOT_BE_EMPTY);
      else if (!isURL(url)) zv.field('url').add('must be a valid url');
      return;
    }
    case 'OpenTelemetry':
      if (!otel) return void (has(b, 'openTelemetry') || bv.field('openTelemetry').add(MUST_BE_DEFINED));
      validateOtelTarget(otel, bv.field('openTelemetry'));
      return;
    default:
      return;
  }
}

/** govalidator.IsURL, in substance: http(s) (or no scheme) and a host. */
function isURL(s: string): boolean {
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `http://${s}`);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && !/\s/.test(s);
  } catch {
    return false;
  }
}
