import type { Resource } from './resource.ts';
import type { JsonObject, Violations } from './validation.ts';

export type Scope = 'Global' | 'Mesh';

/** A column of `kumactl get <type>` output. */
export interface TableColumn {
  readonly header: string;
  readonly value: (r: Resource, now: Date) => string;
}

/**
 * One descriptor per resource type. It alone drives the REST paths, the kumactl
 * arguments, validation, the wire layout and the event-log subjects, so that a new
 * type is a new descriptor rather than edits across the code base (Kuma's
 * ResourceTypeDescriptor).
 */
export interface ResourceTypeDescriptor {
  /** `Dataplane`, `MeshTimeout`: the `type` field on the wire. */
  readonly name: string;
  /** Lower-case plural used in REST paths: `dataplanes`. */
  readonly plural: string;
  readonly scope: Scope;
  /** `kumactl get <singular> <name>`. */
  readonly kumactlArg: string;
  /** `kumactl get <list>`. */
  readonly kumactlListArg: string;
  /**
   * Kuma's ShortName, the type part of a KRI (`dp`, `m`). Types without one (secrets) have no
   * KRI and their REST form has no `kri` field.
   */
  readonly shortName?: string;
  /** Policies (targetRef types) are matched against dataplanes by the mesh view. */
  readonly isPolicy: boolean;
  /**
   * `inline`: spec fields sit at the top level next to type/mesh/name (Mesh, Dataplane, Secret).
   * `nested`: spec sits under `spec` (targetRef policies).
   */
  readonly specLayout: 'inline' | 'nested';
  /** Pure validation of the spec; adds every violation to `v` (paths relative to the resource root). */
  readonly validate: (spec: Readonly<JsonObject>, v: Violations) => void;
  /**
   * Kuma's Deprecations(): what is accepted but deprecated in a valid resource (a Mesh name that is
   * not RFC 1035). Each message becomes a `warnings` entry of the PUT answer.
   */
  readonly deprecations?: (input: Readonly<{ name: string; spec: Readonly<JsonObject> }>) => string[];
  /**
   * The spec is confidential (Secret, GlobalSecret): encrypted in the log and checkpoints, and
   * shown as a digest everywhere but the live read of the resource itself.
   */
  readonly confidential?: boolean;
  /**
   * The scope of the type's Kuma custom resource on Kubernetes, for `GET ...?format=kubernetes`.
   * Absent for types that are not Kuma custom resources (secrets are Kubernetes Secrets).
   */
  readonly kubernetesScope?: 'Namespaced' | 'Cluster';
  /** Extra columns for `kumactl get`, after MESH/NAME; AGE is appended by kumactl. */
  readonly columns: readonly TableColumn[];
}
