import { ComputedPolicies, type PolicySource } from '../policies/engine/proxy-policies.ts';
import { traitsOf } from '../policies/engine/traits.ts';
import type { DataplaneModel } from '../resources/dataplane-model.ts';

/** One proxy-level policy of Kuma's `GET /meshes/{mesh}/dataplanes/{name}/_policies`. */
export interface ProxyPolicyJson {
  readonly kind: string;
  readonly conf: unknown;
  readonly origins: readonly { readonly kri: string }[];
}

/**
 * Kuma 2.x's proxy policies of a Dataplane (the new inspect API's `_policies`): for every
 * single-item type (one conf for the whole proxy: MeshTrace, MeshMetric, MeshProxyPatch,
 * MeshPassthrough) that has a policy selecting the proxy, its merged conf and the KRIs of the
 * policies it came from, in merge order. In the order of `policyTypes` (Kuma's plugin order). Pure.
 */
export function proxyPolicies(
  source: PolicySource,
  policyTypes: Iterable<string>,
  dp: DataplaneModel,
  kriOf: (type: string, mesh: string, name: string) => string,
): { policies: ProxyPolicyJson[] } {
  const computed = new ComputedPolicies(source, dp);
  const policies: ProxyPolicyJson[] = [];
  for (const type of policyTypes) {
    if (!traitsOf(type).singleItem) continue;
    const single = computed.rules(type).single;
    if (single.conf.length === 0) continue;
    const seen = new Set<string>();
    const origins: { kri: string }[] = [];
    for (const o of single.origin) {
      const kri = kriOf(o.type, o.mesh, o.name);
      if (!seen.has(kri)) {
        seen.add(kri);
        origins.push({ kri });
      }
    }
    policies.push({ kind: type, conf: computed.proxy(type), origins });
  }
  return { policies };
}
