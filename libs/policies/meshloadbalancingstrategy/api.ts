import type { TargetRef } from '../core/target-ref.ts';

/** MeshLoadBalancingStrategy's spec (pkg/plugins/policies/meshloadbalancingstrategy/api/v1alpha1). */
export interface MeshLoadBalancingStrategySpec {
  readonly targetRef?: TargetRef;
  readonly to?: readonly { readonly targetRef: TargetRef; readonly default?: MeshLoadBalancingStrategyConf }[];
}

export interface HashPolicy {
  readonly type: (typeof HASH_POLICY_TYPES)[number];
  readonly terminal?: boolean;
  readonly header?: { readonly name: string };
  readonly cookie?: { readonly name: string; readonly ttl?: string; readonly path?: string };
  readonly connection?: { readonly sourceIP?: boolean };
  readonly queryParameter?: { readonly name: string };
  readonly filterState?: { readonly key: string };
}

export interface MeshLoadBalancingStrategyConf {
  readonly loadBalancer?: {
    readonly type: (typeof LB_TYPES)[number];
    readonly leastRequest?: { readonly choiceCount?: number; readonly activeRequestBias?: number | string };
    readonly ringHash?: { readonly hashFunction?: 'XXHash' | 'MurmurHash2'; readonly minRingSize?: number; readonly maxRingSize?: number; readonly hashPolicies?: readonly HashPolicy[] };
    readonly maglev?: { readonly tableSize?: number; readonly hashPolicies?: readonly HashPolicy[] };
  };
  readonly localityAwareness?: {
    readonly disabled?: boolean;
    readonly localZone?: { readonly affinityTags?: readonly { readonly key: string; readonly weight?: number }[] };
    readonly crossZone?: {
      readonly failover?: readonly { readonly from?: { readonly zones: readonly string[] }; readonly to: { readonly type: (typeof FAILOVER_TYPES)[number]; readonly zones?: readonly string[] } }[];
      readonly failoverThreshold?: { readonly percentage: number | string };
    };
  };
  readonly hashPolicies?: readonly HashPolicy[];
}

export const LB_TYPES = ['RoundRobin', 'LeastRequest', 'RingHash', 'Random', 'Maglev'] as const;
export const HASH_POLICY_TYPES = ['Header', 'Cookie', 'Connection', 'SourceIP', 'QueryParameter', 'FilterState'] as const;
export const FAILOVER_TYPES = ['Any', 'Only', 'AnyExcept', 'None'] as const;
