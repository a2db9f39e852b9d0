import type * as k8s from '@kubernetes/client-node';
import type { ResourceTypeDescriptor } from '../resources/descriptor.ts';
import type { JsonObject } from '../resources/validation.ts';

/**
 * A `kuma.io` custom resource and what it is in our model: one mapping, shared by the log source
 * (which appends it) and the validating webhook (which refuses what would not validate), so the
 * two can never disagree about an object.
 */

/** A kuma.io object as its CRD has it: `mesh` beside `spec`. */
export type KumaObject = k8s.KubernetesObject & { mesh?: string; spec?: JsonObject };
export type Identity = { readonly type: string; readonly mesh?: string; readonly name: string };

/** The resource's identity: its type, mesh (the `mesh` field, else the `kuma.io/mesh` label, else default) and Kuma's core name (`<name>.<namespace>` when namespaced). */
export function identityOf(d: ResourceTypeDescriptor, o: KumaObject): Identity | undefined {
  const name = o.metadata?.name;
  if (!name) return undefined;
  const namespace = o.metadata?.namespace;
  const core = d.kubernetesScope === 'Namespaced' && namespace ? `${name}.${namespace}` : name;
  if (d.scope !== 'Mesh') return { type: d.name, name: core };
  const label = o.metadata?.labels && Object.hasOwn(o.metadata.labels, 'kuma.io/mesh') ? o.metadata.labels['kuma.io/mesh'] : undefined;
  return { type: d.name, mesh: o.mesh ?? label ?? 'default', name: core };
}

/** The body the REST API would take for it (`decodeResource` validates it). */
export function bodyOf(d: ResourceTypeDescriptor, id: Identity, o: KumaObject): JsonObject {
  const labels = o.metadata?.labels ?? {};
  const spec = o.spec ?? {};
  return (d.specLayout === 'inline' ? { ...spec, ...id, labels } : { ...id, labels, spec }) as JsonObject;
}
