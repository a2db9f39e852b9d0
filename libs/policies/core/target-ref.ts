/**
 * Kuma's targetRef (api/common/v1alpha1/targetref.go): what a policy selects (top level), what it
 * configures traffic to (`to[]`) or from (`from[]`). Shared by validation, matching and the plugins.
 */
export const TARGET_REF_KINDS = [
  'Mesh',
  'Dataplane',
  'MeshSubset',
  'MeshGateway',
  'MeshService',
  'MeshExternalService',
  'MeshMultiZoneService',
  'MeshServiceSubset',
  'MeshHTTPRoute',
] as const;

export type TargetRefKind = (typeof TARGET_REF_KINDS)[number];

/** `Sidecar` or `Gateway`, as `targetRef.proxyTypes` lists them. */
export type ProxyType = 'Sidecar' | 'Gateway';

export interface TargetRef {
  readonly kind: TargetRefKind;
  readonly name?: string;
  readonly namespace?: string;
  readonly sectionName?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly tags?: Readonly<Record<string, string>>;
  readonly proxyTypes?: readonly ProxyType[];
}

/** A targetRef's specificity, least to most specific (Kuma's kind order): Mesh 1 ... MeshHTTPRoute 9. */
export function kindOrder(kind: TargetRefKind): number {
  return TARGET_REF_KINDS.indexOf(kind) + 1;
}

export const isTargetRefKind = (k: unknown): k is TargetRefKind => typeof k === 'string' && (TARGET_REF_KINDS as readonly string[]).includes(k);

/** An omitted top-level targetRef means the whole mesh (Kuma's GetTargetRef()). */
export const MESH_TARGET: TargetRef = Object.freeze({ kind: 'Mesh' });
