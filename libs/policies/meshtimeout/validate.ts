import type { JsonObject, Violations } from '../../resources/validation.ts';
import { durationGreaterThanZeroOrNil, durationNotNegativeOrNil } from '../core/checks.ts';
import { has, object, objects } from '../core/fields.ts';
import { validateMatches } from '../core/match.ts';
import { MUST_NOT_BE_DEFINED } from '../core/messages.ts';
import { affectsInbounds, defaultConf, lengthOf, sectionItems, topLevel } from '../core/spec.ts';
import { CONF_FIELDS, HTTP_FIELDS } from './api.ts';

/** Kuma's MeshTimeout validator (validator.go, with the 2.x `rules` section), system role. `v` is at `spec`. */
export function validateMeshTimeout(spec: Readonly<JsonObject>, v: Violations): void {
  const top = topLevel(spec, v, ['targetRef', 'to', 'from', 'rules'], {
    supportedKinds: ['Mesh', 'MeshSubset', 'Dataplane', 'MeshGateway', 'MeshService', 'MeshServiceSubset', 'MeshHTTPRoute'],
    gatewayListenerTagsAllowed: true,
    isInboundPolicy: affectsInbounds(spec),
  });
  const routeOrGateway = top.kind === 'MeshHTTPRoute' || top.kind === 'MeshGateway';
  const [to, from, rules] = [lengthOf(spec, 'to'), lengthOf(spec, 'from'), lengthOf(spec, 'rules')];
  if (rules > 0 && (to > 0 || from > 0)) v.add("fields 'to' and 'from' must be empty when 'rules' is defined");
  if (to === 0 && from === 0 && rules === 0) v.add("at least one of 'from', 'to' or 'rules' has to be defined");

  if (routeOrGateway && from > 0) v.field('from').add(MUST_NOT_BE_DEFINED);
  else {
    for (const f of sectionItems(spec, 'from', v, ['targetRef', 'default'], { supportedKinds: ['Mesh'] })) {
      validateConf(defaultConf(f.item, f.v, CONF_FIELDS), f.v.field('default'), top.kind);
    }
  }
  const toKinds = routeOrGateway
    ? (['Mesh', 'MeshExternalService'] as const)
    : (['Mesh', 'MeshService', 'MeshExternalService', 'MeshMultiZoneService', 'MeshHTTPRoute'] as const);
  for (const t of sectionItems(spec, 'to', v, ['targetRef', 'default'], { supportedKinds: toKinds })) {
    validateConf(defaultConf(t.item, t.v, CONF_FIELDS), t.v.field('default'), top.kind);
  }
  for (const { item, v: rv } of objects(spec as JsonObject, 'rules', v, ['matches', 'default'])) {
    validateMatches(item, 'matches', rv);
    validateConf(defaultConf(item, rv, CONF_FIELDS), rv.field('default'), top.kind);
  }
}

function validateConf(conf: JsonObject, v: Violations, topKind: string): void {
  if (!has(conf, 'connectionTimeout') && !has(conf, 'idleTimeout') && !has(conf, 'http')) {
    v.add('at least one timeout should be configured');
    return;
  }
  const http = object(conf, 'http', v, HTTP_FIELDS);
  if (topKind === 'MeshHTTPRoute') {
    const msg = "can't be specified when top-level TargetRef is referencing MeshHTTPRoute";
    if (has(conf, 'connectionTimeout')) v.field('connectionTimeout').add(msg);
    if (has(conf, 'idleTimeout')) v.field('idleTimeout').add(msg);
    if (http && has(http, 'maxStreamDuration')) v.field('http').field('maxStreamDuration').add(msg);
    if (http && has(http, 'maxConnectionDuration')) v.field('http').field('maxConnectionDuration').add(msg);
  }
  durationGreaterThanZeroOrNil(conf, 'connectionTimeout', v);
  durationNotNegativeOrNil(conf, 'idleTimeout', v);
  if (!http) return;
  const hv = v.field('http');
  if (!['requestTimeout', 'streamIdleTimeout', 'maxStreamDuration', 'maxConnectionDuration'].some((k) => has(http, k))) {
    hv.add('at least one timeout in this section should be configured');
  }
  for (const k of HTTP_FIELDS) durationNotNegativeOrNil(http, k, hv);
}
