import type { JsonObject, Violations } from '../../resources/validation.ts';
import { isFilePath } from '../core/checks.ts';
import { array, boolean, enumOf, has, object, objects, string } from '../core/fields.ts';
import { validateMatches } from '../core/match.ts';
import { MUST_BE_DEFINED, MUST_NOT_BE_EMPTY } from '../core/messages.ts';
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

/** Kuma's access log format: `Plain` needs a non-empty `plain`, `Json` a non-empty `json` list of `{key, value}`. */
function format(obj: JsonObject, v: Violations): void {
  const f = object(obj, 'format', v, ['type', 'plain', 'json', 'omitEmptyValues']);
  if (!f) return;
  const fv = v.field('format');
  const type = enumOf(f, 'type', fv, ['Plain', 'Json'], true);
  boolean(f, 'omitEmptyValues', fv);
  const plain = string(f, 'plain', fv);
  const json = array(f, 'json', fv);
  if (type === 'Plain') {
    if (plain === undefined) fv.field('plain').add(MUST_BE_DEFINED);
    else if (plain === '') fv.field('plain').add(MUST_NOT_BE_EMPTY);
  }
  if (type === 'Json') {
    if (json === undefined) fv.field('json').add(MUST_BE_DEFINED);
    else if (json.length === 0) fv.field('json').add(MUST_NOT_BE_EMPTY);
  }
  for (const { item, v: jv } of objects(f, 'json', fv, ['key', 'value'])) {
    const key = string(item, 'key', jv);
    const value = string(item, 'value', jv);
    if (!key) jv.field('key').add('key cannot be empty');
    if (!value) jv.field('value').add('value cannot be empty');
    if (key && value) {
      // Kuma renders `{"<key>": "<value>"}` and requires it to parse as JSON.
      try {
        JSON.parse(`{"${key}": "${value}"}`);
      } catch {
        jv.add('is not a valid JSON object');
      }
    }
  }
}

const HOST_PORT = /^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*(:\d{1,5})?$/;

/** A TCP log collector: `host[:port]` or a URL (`http://logs.com`, `tcp://collector:5000`). */
function isValidAddress(address: string): boolean {
  if (HOST_PORT.test(address)) return true;
  try {
    const u = new URL(address);
    return u.hostname !== '' && HOST_PORT.test(u.hostname);
  } catch {
    return false;
  }
}

function validateConf(conf: JsonObject, v: Violations): void {
  const backends = objects(conf, 'backends', v, ['type', 'tcp', 'file', 'openTelemetry']);
  if (backends.length === 0) v.field('backends').add(MUST_BE_DEFINED);
  for (const { item: b, v: bv } of backends) {
    const type = enumOf(b, 'type', bv, ['Tcp', 'File', 'OpenTelemetry'], true);
    const tcp = object(b, 'tcp', bv, ['format', 'address']);
    const file = object(b, 'file', bv, ['format', 'path']);
    const otel = object(b, 'openTelemetry', bv, ['endpoint', 'backendRef', 'attributes', 'body']);
    if (type === 'Tcp' && !has(b, 'tcp')) bv.field('tcp').add(MUST_BE_DEFINED);
    if (type === 'File' && !has(b, 'file')) bv.field('file').add(MUST_BE_DEFINED);
    if (type === 'OpenTelemetry' && !has(b, 'openTelemetry')) bv.field('openTelemetry').add(MUST_BE_DEFINED);
    if (tcp) {
      format(tcp, bv.field('tcp'));
      const address = string(tcp, 'address', bv.field('tcp')) ?? '';
      if (!isValidAddress(address)) bv.field('tcp').field('address').add('tcp backend requires valid address');
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
