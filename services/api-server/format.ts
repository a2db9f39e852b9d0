import type { ResourceTypeDescriptor } from '../../libs/resources/descriptor.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import type { JsonObject } from '../../libs/resources/validation.ts';
import { encodeResource } from '../../libs/resources/wire.ts';
import { ApiError } from '../../libs/platform/api-errors.ts';

/** Kuma's default system namespace (KUMA_STORE_KUBERNETES_SYSTEM_NAMESPACE), where inferred objects live. */
export const SYSTEM_NAMESPACE = 'kuma-system';

const FORMATS = ['k8s', 'kubernetes', 'universal'];

/** Kubernetes' metav1.Time: RFC 3339 in UTC, whole seconds. */
const kubeTime = (iso: string): string => `${new Date(iso).toISOString().slice(0, 19)}Z`;

/**
 * The object Kuma's NewInferenceMapper shows for a resource of a universal store: the CRD's
 * kind and apiVersion, name (and namespace for namespaced kinds: `?namespace=` or the system
 * namespace) and creationTimestamp, the mesh for mesh-scoped kinds, then the spec. Like Kuma's
 * mapper it carries no labels.
 */
function kubernetesObject(r: Resource, d: ResourceTypeDescriptor, namespace: string | undefined): JsonObject {
  if (d.kubernetesScope === undefined) {
    throw new ApiError(400, 'Could not retrieve a resource', `${d.name} has no Kubernetes form: it is not a Kuma custom resource`);
  }
  const metadata: JsonObject = { name: r.meta.name };
  if (d.kubernetesScope === 'Namespaced') metadata['namespace'] = namespace || SYSTEM_NAMESPACE;
  metadata['creationTimestamp'] = kubeTime(r.meta.creationTime);
  return {
    kind: d.name,
    apiVersion: 'kuma.io/v1alpha1',
    metadata,
    ...(r.meta.mesh !== undefined ? { mesh: r.meta.mesh } : {}),
    spec: r.spec,
  };
}

/**
 * A resource as `GET ...?format=` asks (Kuma's formatResource): `universal` (or no format) is the
 * REST form, `k8s`/`kubernetes` the inferred Kubernetes object; anything else is Kuma's 400.
 */
export function formatResource(r: Resource, d: ResourceTypeDescriptor, query: Record<string, unknown>): JsonObject {
  const first = (v: unknown): string | undefined => (Array.isArray(v) ? (v[0] as string | undefined) : typeof v === 'string' ? v : undefined);
  const format = first(query['format']) ?? '';
  switch (format) {
    case '':
    case 'universal':
      return encodeResource(r, d);
    case 'k8s':
    case 'kubernetes':
      return kubernetesObject(r, d, first(query['namespace']));
    default:
      throw new ApiError(400, 'Could not retrieve a resource', 'Resource is not valid', [
        { field: '', reason: `"format" must be one of [${FORMATS.map((f) => JSON.stringify(f)).join(', ')}]` },
      ]);
  }
}
