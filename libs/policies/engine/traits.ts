import type { ToItem } from '../core/matchable.ts';
import type { MergeOptions } from '../core/merge.ts';

/**
 * How Kuma computes the rules of each policy type (its descriptor flags and merge directives,
 * KUMA-REFERENCE §1-2). Types not listed have no special handling.
 */
export interface PolicyTraits {
  /** Kuma's IsFromAsRules: `from[]` items are read as match-less `rules[]`. */
  readonly isFromAsRules: boolean;
  /** MeshTrace, MeshMetric, MeshProxyPatch, MeshPassthrough: one `default` for the whole proxy. */
  readonly singleItem: boolean;
  readonly merge: MergeOptions;
  /** The conf a `to[]` item contributes (default: its `default`). */
  readonly defaultOf?: (item: ToItem) => unknown;
  /** Turns a merged conf into what plugins see (undoes what `defaultOf` did for merging). */
  readonly transform?: (conf: unknown) => unknown;
}

const plain = (isFromAsRules: boolean, singleItem = false): PolicyTraits => ({ isFromAsRules, singleItem, merge: {} });

const reverseRules = (conf: unknown): unknown => {
  if (typeof conf !== 'object' || conf === null) return conf;
  const c = conf as { rules?: unknown[] };
  return Array.isArray(c.rules) ? { ...c, rules: [...c.rules].reverse() } : conf;
};

export const POLICY_TRAITS: Readonly<Record<string, PolicyTraits>> = {
  MeshTrafficPermission: plain(false),
  MeshTimeout: plain(true),
  MeshRetry: plain(false),
  // A route's rules are merged by identical matches; Kuma reverses them for merging and back
  // afterwards, so the first rule of a route wins (meshhttproute/api/v1alpha1/helpers.go).
  MeshHTTPRoute: {
    isFromAsRules: false,
    singleItem: false,
    merge: { mergeValuesByKey: [{ field: 'rules', key: 'matches' }], mergeValues: 'hostnames' },
    defaultOf: (item) => reverseRules({ ...(item['hostnames'] !== undefined ? { hostnames: item['hostnames'] } : {}), rules: item['rules'] ?? [] }),
    transform: reverseRules,
  },
  MeshTCPRoute: { isFromAsRules: false, singleItem: false, merge: {}, defaultOf: (item) => ({ rules: item['rules'] ?? [] }) },
  MeshHealthCheck: plain(false),
  MeshCircuitBreaker: plain(true),
  MeshLoadBalancingStrategy: plain(false),
  MeshFaultInjection: plain(false),
  MeshRateLimit: plain(true),
  MeshAccessLog: plain(true),
  MeshTLS: plain(true),
  MeshTrace: plain(false, true),
  MeshMetric: plain(false, true),
  MeshProxyPatch: plain(false, true),
  MeshPassthrough: plain(false, true),
};

export const traitsOf = (type: string): PolicyTraits => POLICY_TRAITS[type] ?? plain(false);
