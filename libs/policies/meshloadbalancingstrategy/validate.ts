import type { JsonObject, Violations } from '../../resources/validation.ts';
import { intOrStringAtLeast, percentage } from '../core/checks.ts';
import { array, boolean, duration, enumOf, has, integer, object, objects, string } from '../core/fields.ts';
import { MUST_BE_DEFINED, MUST_NOT_BE_EMPTY } from '../core/messages.ts';
import { defaultConf, topLevel } from '../core/spec.ts';
import type { TargetRefKind } from '../core/target-ref.ts';
import { validateTargetRef } from '../core/validate-target-ref.ts';
import { HASH_POLICY_TYPES, LB_TYPES } from './api.ts';

const CONF = ['loadBalancer', 'localityAwareness', 'hashPolicies'];
const ONLY_HASH = 'field is not allowed when targetRef.kind is MeshHTTPRoute, only hashPolicies is supported';

/** Kuma's MeshLoadBalancingStrategy validator (validator.go). `v` is at `spec`. */
export function validateMeshLoadBalancingStrategy(spec: Readonly<JsonObject>, v: Violations): void {
  const top = topLevel(spec, v, ['targetRef', 'to'], {
    supportedKinds: ['Mesh', 'MeshSubset', 'MeshGateway', 'MeshService', 'MeshServiceSubset', 'Dataplane'],
    gatewayListenerTagsAllowed: true,
  });
  const gateway = top.kind === 'MeshGateway';
  // The targetRef of each entry is validated below, once its `default` says which kinds apply.
  for (const { item, v: tv } of objects(spec as JsonObject, 'to', v, ['targetRef', 'default'])) {
    const conf = defaultConf(item, tv, CONF);
    let kinds: TargetRefKind[] = gateway ? ['Mesh', 'MeshService', 'MeshMultiZoneService'] : ['Mesh', 'MeshService', 'MeshMultiZoneService', 'MeshHTTPRoute'];
    if (gateway && has(conf, 'loadBalancer')) kinds = ['Mesh'];
    if (top.kind === 'Mesh') kinds.push('MeshExternalService');
    const ref = validateTargetRef(item['targetRef'] ?? {}, tv.field('targetRef'), { supportedKinds: kinds });
    validateConf(conf, tv.field('default'), ref?.kind ?? '');
  }
}

function validateConf(conf: JsonObject, v: Violations, toKind: string): void {
  if (toKind === 'MeshHTTPRoute') {
    hashPolicies(conf, 'hashPolicies', v);
    if (has(conf, 'loadBalancer')) v.field('loadBalancer').add(ONLY_HASH);
    if (has(conf, 'localityAwareness')) v.field('localityAwareness').add(ONLY_HASH);
    return;
  }
  const lb = object(conf, 'loadBalancer', v, ['type', 'leastRequest', 'ringHash', 'maglev']);
  if (lb) {
    const lv = v.field('loadBalancer');
    enumOf(lb, 'type', lv, LB_TYPES, true);
    const lr = object(lb, 'leastRequest', lv, ['choiceCount', 'activeRequestBias']);
    if (lr) {
      integer(lr, 'choiceCount', lv.field('leastRequest'), 0);
      if (lb['type'] === 'LeastRequest') intOrStringAtLeast(lr, 'activeRequestBias', lv.field('leastRequest'), 0);
    }
    const rh = object(lb, 'ringHash', lv, ['hashFunction', 'minRingSize', 'maxRingSize', 'hashPolicies']);
    if (rh) {
      enumOf(rh, 'hashFunction', lv.field('ringHash'), ['XXHash', 'MurmurHash2']);
      integer(rh, 'minRingSize', lv.field('ringHash'), 0);
      integer(rh, 'maxRingSize', lv.field('ringHash'), 0);
      hashPolicies(rh, 'hashPolicies', lv.field('ringHash'));
    }
    const mg = object(lb, 'maglev', lv, ['tableSize', 'hashPolicies']);
    if (mg) {
      integer(mg, 'tableSize', lv.field('maglev'), 0);
      hashPolicies(mg, 'hashPolicies', lv.field('maglev'));
    }
  }
  const la = object(conf, 'localityAwareness', v, ['disabled', 'localZone', 'crossZone']);
  if (la) {
    const av = v.field('localityAwareness');
    boolean(la, 'disabled', av);
    const lz = object(la, 'localZone', av, ['affinityTags']);
    if (lz) {
      const zv = av.field('localZone');
      const tags = objects(lz, 'affinityTags', zv, ['key', 'weight']);
      let weighted = 0;
      for (const { item, v: tv } of tags) {
        if (!string(item, 'key', tv)) tv.field('key').add(MUST_NOT_BE_EMPTY);
        if (has(item, 'weight')) {
          const w = integer(item, 'weight', tv, 0);
          if (w !== undefined && w <= 0) tv.field('weight').add('must be greater than 0');
          weighted++;
        }
      }
      if (weighted > 0 && weighted !== tags.length) zv.field('affinityTags').add('all or none affinity tags should have weight');
    }
    const cz = object(la, 'crossZone', av, ['failover', 'failoverThreshold']);
    if (cz) {
      const cv = av.field('crossZone');
      if (toKind !== 'MeshMultiZoneService') cv.add('crossZone is only supported when targetRef.kind is MeshMultiZoneService');
      else {
        for (const { item, v: fv } of objects(cz, 'failover', cv, ['from', 'to'])) {
          const from = object(item, 'from', fv, ['zones']);
          if (from) {
            const zones = array(from, 'zones', fv.field('from')) ?? [];
            if (zones.length === 0) fv.field('from').field('zones').add(MUST_NOT_BE_EMPTY);
            zones.forEach((z, i) => (typeof z !== 'string' || z === '') && fv.field('from').field('zones').index(i).add(MUST_NOT_BE_EMPTY));
          }
          const to = object(item, 'to', fv, ['type', 'zones']) ?? {};
          const type = to['type'];
          const zones = array(to, 'zones', fv.field('to')) ?? [];
          if (type === 'Any' || type === 'None') {
            if (zones.length > 0) fv.field('to').field('zones').add(`must be empty when type is ${type}`);
          } else if (type === 'AnyExcept' || type === 'Only') {
            if (zones.length === 0) fv.field('to').field('zones').add(`must not be empty when type is ${type}`);
          } else fv.field('to').field('type').add('unrecognized type');
        }
        const ft = object(cz, 'failoverThreshold', cv, ['percentage']);
        if (ft) percentage(ft, 'percentage', cv.field('failoverThreshold'), false);
      }
    }
  }
  hashPolicies(conf, 'hashPolicies', v);
}

const HASH_FIELDS = ['type', 'terminal', 'header', 'cookie', 'connection', 'queryParameter', 'filterState'];

function hashPolicies(obj: JsonObject, key: string, v: Violations): void {
  for (const { item, v: hv } of objects(obj, key, v, HASH_FIELDS)) {
    boolean(item, 'terminal', hv);
    const type = item['type'];
    const required = (field: string, fields: string[]) => {
      const o = object(item, field, hv, fields);
      if (!o) {
        if (!has(item, field)) hv.field(field).add(MUST_BE_DEFINED);
      }
      return o;
    };
    switch (type) {
      case 'Header':
        required('header', ['name']);
        break;
      case 'Cookie': {
        const c = required('cookie', ['name', 'ttl', 'path']);
        if (c) {
          duration(c, 'ttl', hv.field('cookie'));
          const p = string(c, 'path', hv.field('cookie'));
          if (p !== undefined && !p.startsWith('/')) hv.field('cookie').field('path').add('must be an absolute path');
        }
        break;
      }
      case 'QueryParameter':
        required('queryParameter', ['name']);
        break;
      case 'FilterState':
        required('filterState', ['key']);
        break;
      case 'Connection':
        required('connection', ['sourceIP']);
        break;
      default:
        if (!(HASH_POLICY_TYPES as readonly unknown[]).includes(type)) hv.field('type').add('unrecognized type');
    }
  }
}
