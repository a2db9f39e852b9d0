import type { JsonObject, Violations } from '../../resources/validation.ts';
import { percentageOrNil } from '../core/checks.ts';
import { boolean, enumOf, has, object, objects, string } from '../core/fields.ts';
import { MUST_BE_DEFINED } from '../core/messages.ts';
import { validateOtelTarget } from '../core/otel.ts';
import { OBSERVABILITY_TOP_KINDS, singleItem } from '../core/single-item.ts';

/** Kuma's MeshTrace validator (validator.go). `v` is at `spec`. */
export function validateMeshTrace(spec: Readonly<JsonObject>, v: Violations): void {
  const conf = singleItem(spec, v, OBSERVABILITY_TOP_KINDS, ['backends', 'sampling', 'tags']);
  if (!conf) return;
  const dv = v.field('default');
  const backends = objects(conf, 'backends', dv, ['type', 'zipkin', 'datadog', 'openTelemetry']);
  if (backends.length > 1) dv.field('backends').add('must have zero or one backend defined');
  for (const { item: b, v: bv } of backends) {
    const type = enumOf(b, 'type', bv, ['Zipkin', 'Datadog', 'OpenTelemetry'], true);
    const zipkin = object(b, 'zipkin', bv, ['url', 'traceId128bit', 'apiVersion', 'sharedSpanContext']);
    const datadog = object(b, 'datadog', bv, ['url', 'splitService']);
    const otel = object(b, 'openTelemetry', bv, ['endpoint', 'backendRef']);
    const section = type === 'Zipkin' ? 'zipkin' : type === 'Datadog' ? 'datadog' : type === 'OpenTelemetry' ? 'openTelemetry' : undefined;
    if (section && !has(b, section)) bv.field(section).add(MUST_BE_DEFINED);
    if (zipkin) {
      urlField(zipkin, bv.field('zipkin'));
      enumOf(zipkin, 'apiVersion', bv.field('zipkin'), ['httpJson', 'httpProto']);
      boolean(zipkin, 'traceId128bit', bv.field('zipkin'));
      boolean(zipkin, 'sharedSpanContext', bv.field('zipkin'));
    }
    if (datadog) {
      urlField(datadog, bv.field('datadog'));
      boolean(datadog, 'splitService', bv.field('datadog'));
    }
    if (otel) validateOtelTarget(otel, bv.field('openTelemetry'));
  }
  const sampling = object(conf, 'sampling', dv, ['overall', 'client', 'random']);
  if (sampling) for (const k of ['overall', 'client', 'random']) percentageOrNil(sampling, k, dv.field('sampling'));
  for (const { item: t, v: tv } of objects(conf, 'tags', dv, ['name', 'literal', 'header'])) {
    if (!string(t, 'name', tv)) tv.field('name').add(MUST_BE_DEFINED);
    const literal = string(t, 'literal', tv);
    const header = object(t, 'header', tv, ['name', 'default']);
    if (literal === undefined && !header) tv.add('tag must have either literal or header defined');
    if (literal !== undefined && header) tv.add('tag must have only one of literal or header defined');
    if (header && !string(header, 'name', tv.field('header'))) tv.field('header').field('name').add(MUST_BE_DEFINED);
  }
}

function urlField(obj: JsonObject, v: Violations): void {
  const url = string(obj, 'url', v);
  if (!url) return v.field('url').add(MUST_BE_DEFINED);
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') v.field('url').add('must be a valid url');
  } catch {
    v.field('url').add('must be a valid url');
  }
}
