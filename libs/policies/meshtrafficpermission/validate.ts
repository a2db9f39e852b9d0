import type { JsonObject, Violations } from '../../resources/validation.ts';
import { enumOf, nonEmpty, objects } from '../core/fields.ts';
import { validateMatches } from '../core/match.ts';
import { MUST_BE_DEFINED } from '../core/messages.ts';
import { affectsInbounds, defaultConf, lengthOf, sectionItems, topLevel } from '../core/spec.ts';
import { ACTIONS } from './api.ts';

/** Kuma's MeshTrafficPermission validator (validator.go). `v` is at `spec`. */
export function validateMeshTrafficPermission(spec: Readonly<JsonObject>, v: Violations): void {
  topLevel(spec, v, ['targetRef', 'from', 'rules'], {
    supportedKinds: ['Mesh', 'MeshSubset', 'MeshService', 'MeshServiceSubset', 'Dataplane'],
    isInboundPolicy: affectsInbounds(spec),
  });
  const [from, rules] = [lengthOf(spec, 'from'), lengthOf(spec, 'rules')];
  if (from > 0 && rules > 0) v.add("field 'from' must be empty when 'rules' is defined");
  if (from === 0 && rules === 0) v.add("at least one of 'from' or 'rules' has to be defined");
  for (const { item, v: rv } of objects(spec as JsonObject, 'rules', v, ['default'])) {
    const conf = defaultConf(item, rv, ['allow', 'allowWithShadowDeny', 'deny']);
    if (!nonEmpty(conf, 'deny') && !nonEmpty(conf, 'allow') && !nonEmpty(conf, 'allowWithShadowDeny')) {
      rv.add("at least one of 'allow', 'allowWithShadowDeny', 'deny' has to be defined");
    }
    for (const key of ['allow', 'allowWithShadowDeny', 'deny']) validateMatches(conf, key, rv.field('default'));
  }
  for (const f of sectionItems(spec, 'from', v, ['targetRef', 'default'], { supportedKinds: ['Mesh', 'MeshSubset', 'MeshService', 'MeshServiceSubset'] })) {
    const conf = defaultConf(f.item, f.v, ['action']);
    if (conf['action'] === undefined || conf['action'] === '') f.v.field('default').field('action').add(MUST_BE_DEFINED);
    else enumOf(conf, 'action', f.v.field('default'), ACTIONS);
  }
}
