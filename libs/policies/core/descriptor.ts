import type { ResourceTypeDescriptor } from '../../resources/descriptor.ts';
import type { JsonObject, Violations } from '../../resources/validation.ts';

export interface PolicyTypeSpec {
  /** `MeshTimeout`. */
  readonly name: string;
  /** Kuma's WsPath: `meshtimeouts`. */
  readonly plural: string;
  /** Kuma's ShortName, the KRI type: `mt`. */
  readonly shortName: string;
  /** Pure; `v` is at `spec`. */
  readonly validate: (spec: Readonly<JsonObject>, v: Violations) => void;
}

/**
 * The descriptor of a targetRef policy, as Kuma's zz_generated.resource.go registers them: mesh
 * scoped, a policy, spec nested under `spec`, kumactl `meshtimeout`/`meshtimeouts`, and
 * kumactl's basic table (MESH, NAME, AGE: Kuma has no custom printer for these types).
 */
export function policyDescriptor(p: PolicyTypeSpec): ResourceTypeDescriptor {
  return Object.freeze({
    name: p.name,
    plural: p.plural,
    scope: 'Mesh',
    kumactlArg: p.name.toLowerCase(),
    kumactlListArg: p.plural,
    shortName: p.shortName,
    isPolicy: true,
    specLayout: 'nested',
    // Kuma's policy CRDs are namespaced (the system namespace, or the workload's).
    kubernetesScope: 'Namespaced',
    validate: p.validate,
    columns: [],
  });
}
