import type { JsonObject, Violations } from '../../resources/validation.ts';
import { durationGreaterThan, statusCode, uintGreaterThanZeroOrNil } from '../core/checks.ts';
import { boolean, has, object, objects, string } from '../core/fields.ts';
import { validateMatches } from '../core/match.ts';
import { MUST_BE_DEFINED, MUST_NOT_BE_DEFINED, mustHaveAtLeastOne } from '../core/messages.ts';
import { affectsInbounds, defaultConf, lengthOf, sectionItems, topLevel } from '../core/spec.ts';
import { MESH_TARGET } from '../core/target-ref.ts';
import { includesGateways } from '../core/validate-target-ref.ts';

/** Kuma's MeshRateLimit validator (validator.go), system role. `v` is at `spec`. */
export function validateMeshRateLimit(spec: Readonly<JsonObject>, v: Violations): void {
  const top = topLevel(spec, v, ['targetRef', 'to', 'from', 'rules'], {
    supportedKinds: ['Mesh', 'MeshSubset', 'MeshGateway', 'MeshService', 'MeshServiceSubset', 'MeshHTTPRoute', 'Dataplane'],
    gatewayListenerTagsAllowed: true,
    isInboundPolicy: affectsInbounds(spec),
  });
  const gateways = includesGateways(top.ref ?? MESH_TARGET);
  const [to, from, rules] = [lengthOf(spec, 'to'), lengthOf(spec, 'from'), lengthOf(spec, 'rules')];
  if (rules > 0 && (to > 0 || from > 0)) v.add("fields 'to' and 'from' must be empty when 'rules' is defined");
  if (to === 0 && from === 0 && rules === 0) v.add("at least one of 'from', 'to' or 'rules' has to be defined");
  const noInbound = gateways || top.kind === 'MeshHTTPRoute';
  if (noInbound && from > 0) v.field('from').add(MUST_NOT_BE_DEFINED);
  else for (const f of sectionItems(spec, 'from', v, ['targetRef', 'default'], { supportedKinds: ['Mesh'] })) validateConf(defaultConf(f.item, f.v, ['local']), f.v.field('default'));
  if (top.kind === 'MeshHTTPRoute' && rules > 0) v.field('rules').add(MUST_NOT_BE_DEFINED);
  else {
    for (const { item, v: rv } of objects(spec as JsonObject, 'rules', v, ['matches', 'default'])) {
      validateMatches(item, 'matches', rv);
      validateConf(defaultConf(item, rv, ['local']), rv.field('default'));
    }
  }
  if (!gateways && to > 0) v.field('to').add(MUST_NOT_BE_DEFINED);
  else for (const t of sectionItems(spec, 'to', v, ['targetRef', 'default'], { supportedKinds: ['Mesh'] })) validateConf(defaultConf(t.item, t.v, ['local']), t.v.field('default'));
}

function rate(obj: JsonObject, key: string, v: Violations): void {
  const r = object(obj, key, v, ['num', 'interval']);
  if (!r) return void (has(obj, key) || v.field(key).add(MUST_BE_DEFINED));
  uintGreaterThanZeroOrNil(r, 'num', v.field(key));
  if (!has(r, 'num')) v.field(key).field('num').add(MUST_BE_DEFINED);
  durationGreaterThan(r, 'interval', v.field(key), 50);
}

function validateConf(conf: JsonObject, v: Violations): void {
  const local = object(conf, 'local', v, ['http', 'tcp']);
  if (!local) return void v.field('local').add(MUST_BE_DEFINED);
  const lv = v.field('local');
  if (!has(local, 'http') && !has(local, 'tcp')) lv.add(mustHaveAtLeastOne('http', 'tcp'));
  const http = object(local, 'http', lv, ['disabled', 'requestRate', 'onRateLimit']);
  if (http) {
    const hv = lv.field('http');
    if (!boolean(http, 'disabled', hv)) rate(http, 'requestRate', hv);
    const on = object(http, 'onRateLimit', hv, ['status', 'headers']);
    if (on) {
      if (has(on, 'status')) statusCode(on, 'status', hv.field('onRateLimit'));
      const headers = object(on, 'headers', hv.field('onRateLimit'), ['set', 'add']);
      if (headers) for (const k of ['set', 'add']) for (const { item, v: iv } of objects(headers, k, hv.field('onRateLimit').field('headers'), ['name', 'value'])) string(item, 'name', iv);
    }
  }
  const tcp = object(local, 'tcp', lv, ['disabled', 'connectionRate']);
  if (tcp && !boolean(tcp, 'disabled', lv.field('tcp'))) rate(tcp, 'connectionRate', lv.field('tcp'));
}
