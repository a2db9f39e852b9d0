import type { JsonObject, Violations } from '../../resources/validation.ts';
import { durationGreaterThan, uintGreaterThanZeroOrNil } from '../core/checks.ts';
import { boolean, has, integer, object, objects, string } from '../core/fields.ts';
import { validateMatches } from '../core/match.ts';
import { HAS_TO_BE_GREATER_THAN_ZERO, MUST_BE_DEFINED, MUST_NOT_BE_DEFINED, mustHaveAtLeastOne } from '../core/messages.ts';
import { affectsInbounds, defaultConf, lengthOf, sectionItems, topLevel } from '../core/spec.ts';
import { includesGateways } from '../core/validate-target-ref.ts';

const CONF = ['local'];

/** Kuma's MeshRateLimit validator (validator.go, with `rules`), system role. `v` is at `spec`. */
export function validateMeshRateLimit(spec: Readonly<JsonObject>, v: Violations): void {
  const [to, from, rules] = [lengthOf(spec, 'to'), lengthOf(spec, 'from'), lengthOf(spec, 'rules')];
  if (rules > 0 && (to > 0 || from > 0)) v.add("fields 'to' and 'from' must be empty when 'rules' is defined");
  const top = topLevel(spec, v, ['targetRef', 'to', 'from', 'rules'], {
    supportedKinds: ['Mesh', 'MeshSubset', 'MeshGateway', 'MeshService', 'MeshServiceSubset', 'MeshHTTPRoute', 'Dataplane'],
    gatewayListenerTagsAllowed: true,
    isInboundPolicy: affectsInbounds(spec),
  });
  // Kuma switches on the targetRef as written, valid or not (an omitted one is Mesh).
  const ref = top.ref ?? { kind: top.kind };
  const gateways = includesGateways(ref);
  if (gateways && rules > 0) v.field('rules').add(MUST_NOT_BE_DEFINED);
  else if (top.kind === 'MeshHTTPRoute' && rules > 0) v.field('rules').add(MUST_NOT_BE_DEFINED);
  else {
    for (const { item, v: rv } of objects(spec as JsonObject, 'rules', v, ['matches', 'default'])) {
      validateMatches(item, 'matches', rv);
      validateConf(defaultConf(item, rv, CONF), rv.field('default'));
    }
  }
  if (gateways && from > 0) {
    v.field('from').add(`${MUST_NOT_BE_DEFINED} when the scope includes a Gateway, select only proxyType Sidecar or select only gateways and use spec.to`);
  } else if (top.kind === 'MeshHTTPRoute' && from > 0) v.field('from').add(`${MUST_NOT_BE_DEFINED} when spec.kind is MeshHTTPRoute`);
  else for (const f of sectionItems(spec, 'from', v, ['targetRef', 'default'], { supportedKinds: ['Mesh'] })) validateConf(defaultConf(f.item, f.v, CONF), f.v.field('default'));
  if (!gateways && to > 0) v.field('to').add(MUST_NOT_BE_DEFINED);
  else for (const t of sectionItems(spec, 'to', v, ['targetRef', 'default'], { supportedKinds: ['Mesh'] })) validateConf(defaultConf(t.item, t.v, CONF), t.v.field('default'));
}

/** Kuma's validateRate: `num` above 0 (a non-pointer uint32), `interval` above 50ms. */
function rate(r: JsonObject, v: Violations): void {
  const num = integer(r, 'num', v, 0, 4294967295);
  if ((num ?? (has(r, 'num') ? 1 : 0)) <= 0) v.field('num').add(HAS_TO_BE_GREATER_THAN_ZERO);
  durationGreaterThan(r, 'interval', v, 50);
}

function validateConf(conf: JsonObject, v: Violations): void {
  const lv = v.field('local');
  const local = object(conf, 'local', v, ['http', 'tcp']);
  if (!local) return void (has(conf, 'local') || lv.add(MUST_BE_DEFINED));
  if (!has(local, 'http') && !has(local, 'tcp')) lv.add(mustHaveAtLeastOne('tcp', 'http'));
  const http = object(local, 'http', lv, ['disabled', 'requestRate', 'onRateLimit']);
  if (http) {
    const hv = lv.field('http');
    boolean(http, 'disabled', hv);
    if (!has(http, 'disabled') && !has(http, 'requestRate') && !has(http, 'onRateLimit')) hv.add(mustHaveAtLeastOne('disabled', 'requestRate', 'onRateLimit'));
    else {
      const r = object(http, 'requestRate', hv, ['num', 'interval']);
      if (r) rate(r, hv.field('requestRate'));
      const on = object(http, 'onRateLimit', hv, ['status', 'headers']);
      if (on) {
        uintGreaterThanZeroOrNil(on, 'status', hv.field('onRateLimit'));
        const headers = object(on, 'headers', hv.field('onRateLimit'), ['set', 'add']);
        if (headers) for (const k of ['set', 'add']) for (const { item, v: iv } of objects(headers, k, hv.field('onRateLimit').field('headers'), ['name', 'value'])) string(item, 'name', iv);
      }
    }
  }
  const tcp = object(local, 'tcp', lv, ['disabled', 'connectionRate']);
  if (tcp) {
    const tv = lv.field('tcp');
    boolean(tcp, 'disabled', tv);
    if (!has(tcp, 'disabled') && !has(tcp, 'connectionRate')) tv.add(mustHaveAtLeastOne('disabled', 'connectionRate'));
    const r = object(tcp, 'connectionRate', tv, ['num', 'interval']);
    if (r) rate(r, tv.field('connectionRate'));
  }
}
