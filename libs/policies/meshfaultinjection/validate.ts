import type { JsonObject, Violations } from '../../resources/validation.ts';
import { bandwidthValue, durationNotNegative, percentage, statusCode } from '../core/checks.ts';
import { object, objects } from '../core/fields.ts';
import { validateMatches } from '../core/match.ts';
import { MUST_NOT_BE_DEFINED } from '../core/messages.ts';
import { affectsInbounds, defaultConf, lengthOf, sectionItems, topLevel } from '../core/spec.ts';
import { includesGateways } from '../core/validate-target-ref.ts';

/** Kuma's MeshFaultInjection validator (validator.go), system role. `v` is at `spec`. */
export function validateMeshFaultInjection(spec: Readonly<JsonObject>, v: Violations): void {
  const top = topLevel(spec, v, ['targetRef', 'to', 'from', 'rules'], {
    supportedKinds: ['Mesh', 'MeshSubset', 'MeshGateway', 'MeshService', 'MeshServiceSubset', 'Dataplane'],
    gatewayListenerTagsAllowed: true,
    isInboundPolicy: affectsInbounds(spec),
  });
  // Kuma switches on the targetRef as written, valid or not (an omitted one is Mesh).
  const gateways = includesGateways(top.ref ?? { kind: top.kind });
  if (lengthOf(spec, 'rules') > 0 && lengthOf(spec, 'from') > 0) v.add("field 'from' must be empty when 'rules' is defined");
  if (gateways && lengthOf(spec, 'from') > 0) v.field('from').add(MUST_NOT_BE_DEFINED);
  else {
    for (const f of sectionItems(spec, 'from', v, ['targetRef', 'default'], { supportedKinds: ['Mesh', 'MeshSubset', 'MeshServiceSubset', 'MeshService'] })) {
      validateConf(defaultConf(f.item, f.v, ['http']), f.v.field('default'));
    }
  }
  if (!gateways && lengthOf(spec, 'to') > 0) v.field('to').add(MUST_NOT_BE_DEFINED);
  else {
    for (const t of sectionItems(spec, 'to', v, ['targetRef', 'default'], { supportedKinds: ['Mesh'] })) validateConf(defaultConf(t.item, t.v, ['http']), t.v.field('default'));
  }
  for (const { item, v: rv } of objects(spec as JsonObject, 'rules', v, ['matches', 'default'])) {
    validateMatches(item, 'matches', rv);
    validateConf(defaultConf(item, rv, ['http']), rv.field('default'));
  }
}

function validateConf(conf: JsonObject, v: Violations): void {
  const hv = v.field('http');
  for (const { item: fault, v: fv, i } of objects(conf, 'http', v, ['abort', 'delay', 'responseBandwidth'])) {
    // Kuma's paths put the index after the fault kind: `http.abort[0].httpStatus`.
    const abort = object(fault, 'abort', fv, ['httpStatus', 'percentage']);
    if (abort) {
      statusCode(abort, 'httpStatus', hv.field('abort').index(i));
      percentage(abort, 'percentage', hv.field('abort').index(i));
    }
    const delay = object(fault, 'delay', fv, ['value', 'percentage']);
    if (delay) {
      durationNotNegative(delay, 'value', hv.field('delay').index(i));
      percentage(delay, 'percentage', hv.field('delay').index(i));
    }
    const bw = object(fault, 'responseBandwidth', fv, ['limit', 'percentage']);
    if (bw) {
      // Kuma reports the limit at `responseBandwidth[i].responseBandwidth`.
      bandwidthValue(bw['limit'], hv.field('responseBandwidth').index(i).field('responseBandwidth'));
      percentage(bw, 'percentage', hv.field('responseBandwidth').index(i));
    }
  }
}

