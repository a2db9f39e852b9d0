import type { JsonObject, Violations } from '../../resources/validation.ts';
import { isFilePath } from '../core/checks.ts';
import { boolean, enumOf, has, object, objects, string } from '../core/fields.ts';
import { validateMatches } from '../core/match.ts';
import { MUST_BE_DEFINED } from '../core/messages.ts';
import { validateOtelTarget } from '../core/otel.ts';
import { affectsInbounds, defaultConf, lengthOf, sectionItems, topLevel } from '../core/spec.ts';

/** Kuma's MeshAccessLog validator (validator.go). `v` is at `spec`. */
export function validateMeshAccessLog(spec: Readonly<JsonObject>, v: Violations): void {
  const top = topLevel(spec, v, ['targetRef', 'to', 'from', 'rules'], {
    supportedKinds: ['Mesh', 'MeshSubset', 'MeshGateway', 'MeshService', 'MeshServiceSubset', 'Dataplane'],
    gatewayListenerTagsAllowed: true,
    isInboundPolicy: affectsInbounds(spec),
  });
  const [to, from, rules] = [lengthOf(spec, 'to'), lengthOf(spec, 'from'), lengthOf(spec, 'rules')];
  if (rules > 0 && (to > 0 || from > 0)) v.add("fields 'to' and 'from' must be empty when 'rules' is defined");
  if (to === 0 && from === 0 && rules === 0) v.add("at least one of 'from', 'to' or 'rules' has to be defined");
  for (const f of sectionItems(spec, 'from', v, ['targetRef', 'default'], { supportedKinds: ['Mesh'] })) validateConf(defaultConf(f.item, f.v, ['backends']), f.v.field('default'));
  const toKinds = top.kind === 'MeshGateway' ? (['Mesh'] as const) : (['Mesh', 'MeshService', 'MeshExternalService', 'MeshMultiZoneService', 'MeshHTTPRoute'] as const);
  for (const t of sectionItems(spec, 'to', v, ['targetRef', 'default'], { supportedKinds: toKinds })) validateConf(defaultConf(t.item, t.v, ['backends']), t.v.field('default'));
  for (const { item, v: rv } of objects(spec as JsonObject, 'rules', v, ['matches', 'default'])) {
    validateMatches(item, 'matches', rv);
    validateConf(defaultConf(item, rv, ['backends']), rv.field('default'));
  }
}

function format(obj: JsonObject, v: Violations): void {
  const f = object(obj, 'format', v, ['type', 'plain', 'json', 'omitEmptyValues']);
  if (!f) return;
  const fv = v.field('format');
  const type = enumOf(f, 'type', fv, ['Plain', 'Json'], true);
  boolean(f, 'omitEmptyValues', fv);
  string(f, 'plain', fv);
  const json = objects(f, 'json', fv, ['key', 'value']);
  for (const { item, v: jv } of json) {
    if (!string(item, 'key', jv)) jv.field('key').add('key cannot be empty');
    string(item, 'value', jv);
  }
  if (type === 'Plain' && !has(f, 'plain')) fv.field('plain').add('must be defined when type is Plain');
  if (type === 'Json' && json.length === 0) fv.field('json').add('must be defined when type is Json');
}

function validateConf(conf: JsonObject, v: Violations): void {
  const backends = objects(conf, 'backends', v, ['type', 'tcp', 'file', 'openTelemetry']);
  if (backends.length === 0) v.field('backends').add(MUST_BE_DEFINED);
  for (const { item: b, v: bv } of backends) {
    const type = enumOf(b, 'type', bv, ['Tcp', 'File', 'OpenTelemetry'], true);
    const tcp = object(b, 'tcp', bv, ['format', 'address']);
    const file = object(b, 'file', bv, ['format', 'path']);
    const otel = object(b, 'openTelemetry', bv, ['endpoint', 'backendRef', 'attributes', 'body']);
    if (type === 'Tcp' && !tcp) bv.field('tcp').add('must be defined when type is Tcp');
    if (type === 'File' && !file) bv.field('file').add('must be defined when type is File');
    if (type === 'OpenTelemetry' && !otel) bv.field('openTelemetry').add('must be defined when type is OpenTelemetry');
    if (tcp) {
      format(tcp, bv.field('tcp'));
      const address = string(tcp, 'address', bv.field('tcp')) ?? '';
      if (address === '' || !/^[a-zA-Z0-9.\-_:[\]]+:\d+$|^(tcp|udp):\/\/[^/]+$/.test(address)) bv.field('tcp').field('address').add('tcp backend requires valid address');
    }
    if (file) {
      format(file, bv.field('file'));
      const path = string(file, 'path', bv.field('file')) ?? '';
      if (path === '' || !isFilePath(path)) bv.field('file').field('path').add('file backend requires a valid path');
    }
    if (otel) {
      validateOtelTarget(otel, bv.field('openTelemetry'));
      for (const { item, v: av } of objects(otel, 'attributes', bv.field('openTelemetry'), ['key', 'value'])) {
        if (!string(item, 'key', av)) av.field('key').add(MUST_BE_DEFINED);
        string(item, 'value', av);
      }
    }
  }
}
