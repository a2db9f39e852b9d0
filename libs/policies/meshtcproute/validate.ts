import type { JsonObject, Violations } from '../../resources/validation.ts';
import { validateBackendRefs } from '../core/backend-ref.ts';
import { object, objects } from '../core/fields.ts';
import { MUST_BE_DEFINED } from '../core/messages.ts';
import { sectionItems, topLevel } from '../core/spec.ts';

/** Kuma's MeshTCPRoute validator (validator.go), system role. `v` is at `spec`. */
export function validateMeshTCPRoute(spec: Readonly<JsonObject>, v: Violations): void {
  const top = topLevel(spec, v, ['targetRef', 'to'], {
    supportedKinds: ['Mesh', 'MeshGateway', 'MeshSubset', 'MeshService', 'MeshServiceSubset', 'Dataplane'],
    gatewayListenerTagsAllowed: true,
  });
  for (const t of sectionItems(spec, 'to', v, ['targetRef', 'rules'], {
    supportedKinds: top.kind === 'MeshGateway' ? ['Mesh'] : ['MeshService', 'MeshExternalService', 'MeshMultiZoneService'],
  })) {
    for (const { item, v: rv } of objects(t.item, 'rules', t.v, ['default'])) {
      const conf = object(item, 'default', rv, ['backendRefs']) ?? {};
      if (validateBackendRefs(conf, 'backendRefs', rv.field('default')) === 0) rv.field('default').field('backendRefs').add(MUST_BE_DEFINED);
    }
  }
}
