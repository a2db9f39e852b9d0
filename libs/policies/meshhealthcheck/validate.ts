import type { JsonObject, Violations } from '../../resources/validation.ts';
import { durationGreaterThanZeroOrNil, intGreaterThanZeroOrNil, intPercentageOrNil, pathOrNil, percentageOrNil, statusCodeValue } from '../core/checks.ts';
import { array, boolean, has, object, objects, string } from '../core/fields.ts';
import { MUST_BE_DEFINED, mustHaveAtLeastOne } from '../core/messages.ts';
import { defaultConf, sectionItems, topLevel } from '../core/spec.ts';
import { CONF_FIELDS } from './api.ts';

/** Kuma's MeshHealthCheck validator (validator.go). `v` is at `spec`. */
export function validateMeshHealthCheck(spec: Readonly<JsonObject>, v: Violations): void {
  const top = topLevel(spec, v, ['targetRef', 'to'], {
    supportedKinds: ['Mesh', 'MeshSubset', 'MeshGateway', 'MeshService', 'MeshServiceSubset', 'Dataplane'],
    gatewayListenerTagsAllowed: true,
  });
  for (const t of sectionItems(spec, 'to', v, ['targetRef', 'default'], { supportedKinds: ['Mesh', 'MeshService', 'MeshExternalService', 'MeshMultiZoneService'] })) {
    // Kuma's table accepts a top-level Dataplane too ("top level Dataplane to MeshExternalService").
    if (t.ref?.kind === 'MeshExternalService' && top.kind !== 'Mesh' && top.kind !== 'Dataplane') t.v.field('targetRef.kind').add('kind MeshExternalService is only possible with targetRef.kind: Mesh');
    validateConf(defaultConf(t.item, t.v, CONF_FIELDS), t.v.field('default'));
  }
}

function validateConf(conf: JsonObject, v: Violations): void {
  durationGreaterThanZeroOrNil(conf, 'interval', v);
  durationGreaterThanZeroOrNil(conf, 'timeout', v);
  intGreaterThanZeroOrNil(conf, 'unhealthyThreshold', v);
  intGreaterThanZeroOrNil(conf, 'healthyThreshold', v);
  durationGreaterThanZeroOrNil(conf, 'initialJitter', v);
  durationGreaterThanZeroOrNil(conf, 'intervalJitter', v);
  intPercentageOrNil(conf, 'intervalJitterPercent', v);
  percentageOrNil(conf, 'healthyPanicThreshold', v);
  durationGreaterThanZeroOrNil(conf, 'noTrafficInterval', v);
  pathOrNil(conf, 'eventLogPath', v);
  for (const k of ['failTrafficOnPanic', 'alwaysLogHealthCheckFailures', 'reuseConnection']) boolean(conf, k, v);
  const http = object(conf, 'http', v, ['disabled', 'path', 'expectedStatuses', 'requestHeadersToAdd']);
  if (http) {
    const hv = v.field('http');
    boolean(http, 'disabled', hv);
    if (has(http, 'path') && !string(http, 'path', hv)) hv.field('path').add(MUST_BE_DEFINED);
    (array(http, 'expectedStatuses', hv) ?? []).forEach((s, i) => statusCodeValue(s, hv.field('expectedStatuses').index(i)));
    const headers = object(http, 'requestHeadersToAdd', hv, ['set', 'add']);
    if (headers) for (const k of ['set', 'add']) for (const { item, v: iv } of objects(headers, k, hv.field('requestHeadersToAdd'), ['name', 'value'])) string(item, 'name', iv);
  }
  const tcp = object(conf, 'tcp', v, ['disabled', 'send', 'receive']);
  if (tcp) {
    boolean(tcp, 'disabled', v.field('tcp'));
    string(tcp, 'send', v.field('tcp'));
    array(tcp, 'receive', v.field('tcp'));
  }
  const grpc = object(conf, 'grpc', v, ['disabled', 'serviceName', 'authority']);
  if (grpc) for (const k of ['serviceName', 'authority']) string(grpc, k, v.field('grpc'));
  if (!has(conf, 'http') && !has(conf, 'tcp') && !has(conf, 'grpc')) v.add(mustHaveAtLeastOne('http', 'tcp', 'grpc'));
}
