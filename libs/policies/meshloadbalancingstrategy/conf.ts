/** MeshLoadBalancingStrategy's merged `default` (Kuma's api.Conf), as plugins receive it. */
export interface HashPolicy {
  readonly type: 'Header' | 'Cookie' | 'Connection' | 'SourceIP' | 'QueryParameter' | 'FilterState';
  readonly terminal?: boolean;
  readonly header?: { readonly name: string };
  readonly cookie?: { readonly name: string; readonly ttl?: string; readonly path?: string };
  readonly connection?: { readonly sourceIP?: boolean };
  readonly queryParameter?: { readonly name: string };
  readonly filterState?: { readonly key: string };
}

export interface LoadBalancer {
  readonly type: 'RoundRobin' | 'LeastRequest' | 'RingHash' | 'Random' | 'Maglev';
  readonly leastRequest?: { readonly choiceCount?: number; readonly activeRequestBias?: number | string };
  readonly ringHash?: {
    readonly hashFunction?: 'XXHash' | 'MurmurHash2';
    readonly minRingSize?: number;
    readonly maxRingSize?: number;
    readonly hashPolicies?: readonly HashPolicy[];
  };
  readonly maglev?: { readonly tableSize?: number; readonly hashPolicies?: readonly HashPolicy[] };
}

export interface FailoverRule {
  readonly from?: { readonly zones: readonly string[] };
  readonly to: { readonly type: 'None' | 'Only' | 'Any' | 'AnyExcept'; readonly zones?: readonly string[] };
}

export interface MeshLoadBalancingStrategyConf {
  readonly localityAwareness?: {
    readonly disabled?: boolean;
    /** Affinity tags (locality weighted within the zone): not applied yet. */
    readonly localZone?: unknown;
    readonly crossZone?: { readonly failover?: readonly FailoverRule[]; readonly failoverThreshold?: { readonly percentage: number | string } };
  };
  /** Route hash policies (win over the load balancer's own); the only field for a MeshHTTPRoute target. */
  readonly hashPolicies?: readonly HashPolicy[];
  readonly loadBalancer?: LoadBalancer;
}
