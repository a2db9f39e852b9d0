import type { JsonObject, Violations } from '../../resources/validation.ts';
import { durationGreaterThanZeroOrNil, intOrStringNumber, percentageOrNil, uintGreaterThanZeroOrNil, uintPercentageOrNil } from '../core/checks.ts';
import { boolean, has, object, objects } from '../core/fields.ts';
import { HAS_TO_BE_GREATER_THAN_ZERO, MUST_BE_DEFINED, mustHaveAtLeastOne } from '../core/messages.ts';
import { affectsInbounds, defaultConf, lengthOf, sectionItems, topLevel } from '../core/spec.ts';
import { CONNECTION_LIMITS, DETECTORS } from './api.ts';

const CONF = ['connectionLimits', 'outlierDetection'];
const OUTLIER = ['disabled', 'interval', 'baseEjectionTime', 'maxEjectionPercent', 'splitExternalAndLocalErrors', 'detectors', 'healthyPanicThreshold'];

/** Kuma's MeshCircuitBreaker validator (validator.go, with `rules`). `v` is at `spec`. */
export function validateMeshCircuitBreaker(spec: Readonly<JsonObject>, v: Violations): void {
  topLevel(spec, v, ['targetRef', 'to', 'from', 'rules'], {
    supportedKinds: ['Mesh', 'MeshSubset', 'MeshService', 'MeshGateway', 'MeshServiceSubset', 'Dataplane'],
    gatewayListenerTagsAllowed: true,
    isInboundPolicy: affectsInbounds(spec),
  });
  const [to, from, rules] = [lengthOf(spec, 'to'), lengthOf(spec, 'from'), lengthOf(spec, 'rules')];
  if (rules > 0 && (to > 0 || from > 0)) v.add("fields 'to' and 'from' must be empty when 'rules' is defined");
  if (to === 0 && from === 0 && rules === 0) v.add("at least one of 'from', 'to' or 'rules' has to be defined");
  for (const f of sectionItems(spec, 'from', v, ['targetRef', 'default'], { supportedKinds: ['Mesh'] })) {
    validateConf(defaultConf(f.item, f.v, CONF), f.v.field('default'));
  }
  for (const t of sectionItems(spec, 'to', v, ['targetRef', 'default'], { supportedKinds: ['Mesh', 'MeshService', 'MeshExternalService', 'MeshMultiZoneService'] })) {
    validateConf(defaultConf(t.item, t.v, CONF), t.v.field('default'));
  }
  for (const { item, v: rv } of objects(spec as JsonObject, 'rules', v, ['default'])) validateConf(defaultConf(item, rv, CONF), rv.field('default'));
}

function validateConf(conf: JsonObject, v: Violations): void {
  if (!has(conf, 'connectionLimits') && !has(conf, 'outlierDetection')) {
    v.add("at least one of: 'connectionLimits' or 'outlierDetection' should be configured");
    return;
  }
  const limits = object(conf, 'connectionLimits', v, CONNECTION_LIMITS);
  if (limits) for (const k of CONNECTION_LIMITS) uintGreaterThanZeroOrNil(limits, k, v.field('connectionLimits'));
  const od = object(conf, 'outlierDetection', v, OUTLIER);
  if (!od) return;
  const ov = v.field('outlierDetection');
  boolean(od, 'disabled', ov);
  boolean(od, 'splitExternalAndLocalErrors', ov);
  durationGreaterThanZeroOrNil(od, 'interval', ov);
  durationGreaterThanZeroOrNil(od, 'baseEjectionTime', ov);
  uintPercentageOrNil(od, 'maxEjectionPercent', ov);
  percentageOrNil(od, 'healthyPanicThreshold', ov);
  const detectors = object(od, 'detectors', ov, DETECTORS);
  if (!detectors) {
    if (!has(od, 'detectors')) ov.field('detectors').add(MUST_BE_DEFINED);
    return;
  }
  const dv = ov.field('detectors');
  if (!DETECTORS.some((k) => has(detectors, k))) {
    dv.add(mustHaveAtLeastOne(...DETECTORS));
    return;
  }
  for (const k of ['totalFailures', 'gatewayFailures', 'localOriginFailures']) {
    const d = object(detectors, k, dv, ['consecutive']);
    if (d) uintGreaterThanZeroOrNil(d, 'consecutive', dv.field(k));
  }
  const sr = object(detectors, 'successRate', dv, ['minimumHosts', 'requestVolume', 'standardDeviationFactor']);
  if (sr) {
    const sv = dv.field('successRate');
    uintGreaterThanZeroOrNil(sr, 'minimumHosts', sv);
    uintGreaterThanZeroOrNil(sr, 'requestVolume', sv);
    const factor = intOrStringNumber(sr, 'standardDeviationFactor', sv);
    if (factor === 'invalid') sv.field('standardDeviationFactor').add('invalid number');
    else if (factor !== undefined && factor <= 0) sv.field('standardDeviationFactor').add(HAS_TO_BE_GREATER_THAN_ZERO);
  }
  const fp = object(detectors, 'failurePercentage', dv, ['minimumHosts', 'requestVolume', 'threshold']);
  if (fp) {
    const fv = dv.field('failurePercentage');
    uintGreaterThanZeroOrNil(fp, 'minimumHosts', fv);
    uintGreaterThanZeroOrNil(fp, 'requestVolume', fv);
    uintPercentageOrNil(fp, 'threshold', fv);
  }
}
