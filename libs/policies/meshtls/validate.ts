import type { JsonObject, Violations } from '../../resources/validation.ts';
import { array, has, object, objects } from '../core/fields.ts';
import { fieldMustBeOneOf } from '../core/messages.ts';
import { affectsInbounds, defaultConf, lengthOf, sectionItems, topLevel } from '../core/spec.ts';
import { CIPHERS, MODES, TLS_VERSIONS } from './api.ts';

const CONF = ['tlsVersion', 'tlsCiphers', 'mode'];

/** Kuma's MeshTLS validator (validator.go). `v` is at `spec`. */
export function validateMeshTLS(spec: Readonly<JsonObject>, v: Violations): void {
  const top = topLevel(spec, v, ['targetRef', 'from', 'rules'], { supportedKinds: ['Mesh', 'MeshSubset', 'Dataplane'], isInboundPolicy: affectsInbounds(spec) });
  if (lengthOf(spec, 'rules') > 0 && lengthOf(spec, 'from') > 0) v.add("field 'from' must be empty when 'rules' is defined");
  for (const { item, v: rv } of objects(spec as JsonObject, 'rules', v, ['default'])) validateConf(defaultConf(item, rv, CONF), rv.field('default'), top.kind);
  for (const f of sectionItems(spec, 'from', v, ['targetRef', 'default'], { supportedKinds: ['Mesh'] })) validateConf(defaultConf(f.item, f.v, CONF), f.v.field('default'), top.kind);
}

function validateConf(conf: JsonObject, v: Violations, topKind: string): void {
  const mode = conf['mode'];
  if (mode !== undefined && mode !== null && !(MODES as readonly unknown[]).includes(mode)) v.field('mode').add(fieldMustBeOneOf('mode', ...MODES));
  const ciphers = array(conf, 'tlsCiphers', v) ?? [];
  if (ciphers.length > 0 && topKind !== 'Mesh') v.field('tlsCiphers').add('tlsCiphers can only be defined with top level targetRef kind: Mesh');
  else if (!ciphers.every((c) => (CIPHERS as readonly unknown[]).includes(c))) v.field('tlsCiphers').add(fieldMustBeOneOf('tlsCiphers', ...CIPHERS));
  const version = object(conf, 'tlsVersion', v, ['min', 'max']);
  if (has(conf, 'tlsVersion')) {
    if (topKind !== 'Mesh') v.field('tlsVersion').add('tlsVersion can only be defined with top level targetRef kind: Mesh');
    else if (version) {
      for (const k of ['min', 'max']) {
        const x = version[k];
        if (x !== undefined && !(TLS_VERSIONS as readonly unknown[]).includes(x)) v.field('tlsVersion').field(k).add(fieldMustBeOneOf(k, ...TLS_VERSIONS));
      }
      const [min, max] = [TLS_VERSIONS.indexOf(version['min'] as never), TLS_VERSIONS.indexOf(version['max'] as never)];
      if (min > 0 && max > 0 && min > max) v.field('tlsVersion').field('min').add('min version must be lower than max');
    }
  }
}
