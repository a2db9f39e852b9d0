import { isObject, type JsonObject, type Violations } from '../../resources/validation.ts';
import { durationGreaterThanZero, uintGreaterThanZeroOrNil } from '../core/checks.ts';
import { array, duration, enumOf, has, integer, object, objects, string, stringMap } from '../core/fields.ts';
import { MUST_BE_DEFINED, MUST_BE_DEFINED_AND_GREATER_THAN_ZERO, MUST_NOT_BE_EMPTY } from '../core/messages.ts';
import { defaultConf, lengthOf, sectionItems, topLevel } from '../core/spec.ts';
import { GRPC_RETRY_ON, HOST_PREDICATES, HTTP_RETRY_ON, KNOWN_HTTP_STATUSES } from './api.ts';

const BACKOFF = ['baseInterval', 'maxInterval'];
const RATE_LIMITED = ['resetHeaders', 'maxInterval'];
const HTTP = [
  'numRetries',
  'perTryTimeout',
  'backOff',
  'rateLimitedBackOff',
  'retryOn',
  'retriableResponseHeaders',
  'retriableRequestHeaders',
  'hostSelection',
  'hostSelectionMaxAttempts',
];
const GRPC = ['numRetries', 'perTryTimeout', 'backOff', 'rateLimitedBackOff', 'retryOn'];
const HEADER_MATCH_TYPES = ['EXACT', 'PREFIX', 'REGULAR_EXPRESSION', 'Exact', 'Present', 'RegularExpression', 'Absent', 'Prefix'];

/** Kuma's MeshRetry validator (validator.go), system role. `v` is at `spec`. */
export function validateMeshRetry(spec: Readonly<JsonObject>, v: Violations): void {
  const top = topLevel(spec, v, ['targetRef', 'to'], {
    supportedKinds: ['Mesh', 'MeshSubset', 'MeshGateway', 'MeshService', 'MeshServiceSubset', 'MeshHTTPRoute', 'Dataplane'],
    gatewayListenerTagsAllowed: true,
  });
  if (lengthOf(spec, 'to') === 0) v.field('to').add('needs at least one item');
  const toKinds =
    top.kind === 'MeshGateway' || top.kind === 'MeshHTTPRoute'
      ? (['Mesh', 'MeshExternalService'] as const)
      : (['Mesh', 'MeshService', 'MeshExternalService', 'MeshMultiZoneService', 'MeshHTTPRoute'] as const);
  for (const t of sectionItems(spec, 'to', v, ['targetRef', 'default'], { supportedKinds: toKinds })) {
    validateConf(defaultConf(t.item, t.v, ['tcp', 'http', 'grpc']), t.v.field('default').field('conf'), t.v.field('default'));
  }
}

/** Kuma reports conf violations under `default.conf` (validator.go roots them at "conf"); decoding errors sit at `default`. */
function validateConf(conf: JsonObject, v: Violations, raw: Violations): void {
  if (!has(conf, 'tcp') && !has(conf, 'http') && !has(conf, 'grpc')) v.add("at least one of the 'tcp', 'http', 'grpc' must be specified");
  const tcp = object(conf, 'tcp', raw, ['maxConnectAttempt']);
  if (tcp) {
    if (!has(tcp, 'maxConnectAttempt')) v.field('tcp').add(MUST_NOT_BE_EMPTY);
    else uintGreaterThanZeroOrNil(tcp, 'maxConnectAttempt', v.field('tcp'));
  }
  const http = object(conf, 'http', raw, HTTP);
  if (http) {
    const hv = v.field('http');
    if (!HTTP.some((k) => k !== 'hostSelectionMaxAttempts' && has(http, k))) hv.add(MUST_NOT_BE_EMPTY);
    common(http, hv, raw.field('http'));
    const retryOn = array(http, 'retryOn', raw.field('http')) ?? [];
    retryOn.forEach((ro, i) => {
      const known = typeof ro === 'string' && (HTTP_RETRY_ON as readonly string[]).includes(ro);
      const code = typeof ro === 'number' ? ro : typeof ro === 'string' && /^\d+$/.test(ro) ? Number(ro) : NaN;
      if (!known && !KNOWN_HTTP_STATUSES.has(code)) hv.field('retryOn').index(i).add(`unknown item '${String(ro)}'`);
    });
    for (const key of ['retriableResponseHeaders', 'retriableRequestHeaders']) {
      for (const { item, v: mv } of objects(http, key, raw.field('http'), ['type', 'name', 'value'])) {
        enumOf(item, 'type', mv, HEADER_MATCH_TYPES);
        if (!string(item, 'name', mv)) mv.field('name').add(MUST_BE_DEFINED);
        string(item, 'value', mv);
      }
    }
    let prioritySet = false;
    for (const { item, v: pv, i } of objects(http, 'hostSelection', raw.field('http'), ['predicate', 'tags', 'updateFrequency'])) {
      const at = hv.field('hostSelection').index(i);
      const predicate = string(item, 'predicate', pv);
      stringMap(item, 'tags', pv);
      const freq = integer(item, 'updateFrequency', pv);
      if (predicate === 'OmitHostsWithTags') {
        if (!has(item, 'tags')) at.field('tags').add(MUST_BE_DEFINED);
      } else if (predicate === 'OmitPreviousPriorities') {
        if (prioritySet) at.field('predicate').add(`${predicate} must only be specified once`);
        if ((freq ?? 0) <= 0) at.field('updateFrequency').add(MUST_BE_DEFINED_AND_GREATER_THAN_ZERO);
        prioritySet = true;
      } else if (!(HOST_PREDICATES as readonly string[]).includes(predicate ?? '')) {
        at.field('predicate').add(`unknown predicate type '${predicate ?? ''}'`);
      }
    }
    integer(http, 'hostSelectionMaxAttempts', raw.field('http'));
  }
  const grpc = object(conf, 'grpc', raw, GRPC);
  if (grpc) {
    const gv = v.field('grpc');
    if (!GRPC.some((k) => has(grpc, k))) gv.add(MUST_NOT_BE_EMPTY);
    common(grpc, gv, raw.field('grpc'));
    (array(grpc, 'retryOn', raw.field('grpc')) ?? []).forEach((ro, i) => {
      if (typeof ro !== 'string' || !(GRPC_RETRY_ON as readonly string[]).includes(ro)) gv.field('retryOn').index(i).add(`unknown item '${String(ro)}'`);
    });
  }
}

/** numRetries, perTryTimeout, backOff and rateLimitedBackOff, shared by http and grpc. */
function common(section: JsonObject, v: Violations, raw: Violations): void {
  integer(section, 'numRetries', raw, 0, 4294967295);
  duration(section, 'perTryTimeout', raw);
  const backOff = object(section, 'backOff', raw, BACKOFF);
  if (backOff) {
    if (!has(backOff, 'baseInterval') && !has(backOff, 'maxInterval')) v.field('backOff').add(MUST_NOT_BE_EMPTY);
    duration(backOff, 'baseInterval', raw.field('backOff'));
    duration(backOff, 'maxInterval', raw.field('backOff'));
  }
  const rl = object(section, 'rateLimitedBackOff', raw, RATE_LIMITED);
  if (rl) {
    const rv = v.field('rateLimitedBackOff');
    if (has(rl, 'maxInterval')) durationGreaterThanZero(rl, 'maxInterval', rv);
    if (!has(rl, 'resetHeaders')) rv.field('resetHeaders').add(MUST_BE_DEFINED);
    for (const { item, v: hv, i } of objects(rl, 'resetHeaders', raw.field('rateLimitedBackOff'), ['name', 'format'])) {
      if (!isObject(item) || !string(item, 'name', hv)) rv.field('resetHeaders').index(i).field('name').add(MUST_BE_DEFINED);
      enumOf(item, 'format', hv, ['Seconds', 'UnixTimestamp'], true);
    }
  }
}
