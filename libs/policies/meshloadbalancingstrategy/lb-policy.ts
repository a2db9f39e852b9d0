import type { JsonObject } from '../../resources/validation.ts';
import { protoDuration } from '../core/proto-duration.ts';
import type { HashPolicy, LoadBalancer, MeshLoadBalancingStrategyConf } from './conf.ts';

/**
 * Kuma's LoadBalancerConfigurer (plugin/xds/lbconfigurer.go), made safe for the proxyless gRPC
 * clients that share the cluster: gRPC understands lb_policy ROUND_ROBIN and RING_HASH (with
 * XX_HASH) and NACKs every other lb_policy, so LeastRequest, Random and Maglev are written as
 * Envoy's typed `load_balancing_policy` list (which supersedes lb_policy in Envoy) ending in
 * round robin: Envoy takes the first policy it supports, gRPC skips those it does not know.
 */
const T = 'type.googleapis.com/envoy.extensions.load_balancing_policies.';
const typed = (name: string, type: string, config: JsonObject = {}): JsonObject => ({
  typed_extension_config: { name: `envoy.load_balancing_policies.${name}`, typed_config: { '@type': `${T}${type}`, ...config } },
});
const ROUND_ROBIN_FALLBACK = typed('round_robin', 'round_robin.v3.RoundRobin');

export class InvalidDecimalError extends Error {
  override readonly name = 'InvalidDecimalError';
}

function decimal(v: number | string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidDecimalError(`invalid decimal ${JSON.stringify(v)}`);
  return n;
}

function withFallback(cluster: JsonObject, policy: JsonObject): void {
  delete cluster['lb_policy'];
  cluster['load_balancing_policy'] = { policies: [policy, ROUND_ROBIN_FALLBACK] };
}

export function configureLoadBalancer(cluster: JsonObject, lb: LoadBalancer): void {
  delete cluster['load_balancing_policy'];
  switch (lb.type) {
    case 'RoundRobin':
      cluster['lb_policy'] = 'ROUND_ROBIN';
      return;
    case 'LeastRequest': {
      const cfg: JsonObject = {};
      if (lb.leastRequest?.choiceCount !== undefined) cfg['choice_count'] = { value: lb.leastRequest.choiceCount };
      if (lb.leastRequest?.activeRequestBias !== undefined) cfg['active_request_bias'] = { default_value: decimal(lb.leastRequest.activeRequestBias) };
      withFallback(cluster, typed('least_request', 'least_request.v3.LeastRequest', cfg));
      return;
    }
    case 'Random':
      withFallback(cluster, typed('random', 'random.v3.Random'));
      return;
    case 'Maglev': {
      const cfg: JsonObject = lb.maglev?.tableSize !== undefined ? { table_size: { value: lb.maglev.tableSize } } : {};
      withFallback(cluster, typed('maglev', 'maglev.v3.Maglev', cfg));
      return;
    }
    case 'RingHash': {
      // Kuma's exact output; gRPC supports it with XX_HASH (the default). MurmurHash2 is Envoy-only: gRPC NACKs it.
      cluster['lb_policy'] = 'RING_HASH';
      const rh = lb.ringHash;
      if (!rh) return;
      const cfg: JsonObject = {};
      if (rh.minRingSize !== undefined) cfg['minimum_ring_size'] = { value: rh.minRingSize };
      if (rh.maxRingSize !== undefined) cfg['maximum_ring_size'] = { value: rh.maxRingSize };
      if (rh.hashFunction === 'MurmurHash2') cfg['hash_function'] = 'MURMUR_HASH_2';
      cluster['ring_hash_lb_config'] = cfg;
      return;
    }
  }
}

/** Kuma's getHashPolicies: the conf's own `hashPolicies`, else those of a RingHash or Maglev load balancer. */
export function hashPoliciesOf(conf: MeshLoadBalancingStrategyConf | undefined): readonly HashPolicy[] {
  if (conf?.hashPolicies) return conf.hashPolicies;
  const lb = conf?.loadBalancer;
  return (lb?.type === 'RingHash' ? lb.ringHash?.hashPolicies : lb?.type === 'Maglev' ? lb.maglev?.hashPolicies : undefined) ?? [];
}

/** Kuma's HashPolicyConfigurer: Envoy route hash policies. */
export function hashPolicies(list: readonly HashPolicy[]): readonly JsonObject[] {
  return list.map((hp) => {
    const out: JsonObject = {};
    switch (hp.type) {
      case 'Header':
        out['header'] = { header_name: hp.header?.name ?? '' };
        break;
      case 'Cookie':
        out['cookie'] = {
          name: hp.cookie?.name ?? '',
          ...(hp.cookie?.ttl !== undefined ? { ttl: protoDuration(hp.cookie.ttl) } : {}),
          ...(hp.cookie?.path !== undefined ? { path: hp.cookie.path } : {}),
        };
        break;
      case 'Connection':
        out['connection_properties'] = { source_ip: hp.connection?.sourceIP === true };
        break;
      case 'SourceIP':
        out['connection_properties'] = { source_ip: true };
        break;
      case 'QueryParameter':
        out['query_parameter'] = { name: hp.queryParameter?.name ?? '' };
        break;
      case 'FilterState':
        out['filter_state'] = { key: hp.filterState?.key ?? '' };
        break;
    }
    if (hp.terminal === true) out['terminal'] = true;
    return out;
  });
}

/**
 * What gRPC honours of the hash policies (gRFC A42): header and the channel-id filter state, and
 * only when the cluster is a ring hash gRPC can use (`lb` is the service's load balancer).
 */
export function grpcHashPolicies(list: readonly HashPolicy[], lb: LoadBalancer | undefined): readonly JsonObject[] {
  if (lb?.type !== 'RingHash' || lb.ringHash?.hashFunction === 'MurmurHash2') return [];
  return hashPolicies(list).filter((hp) => hp['header'] !== undefined || (hp['filter_state'] as JsonObject | undefined)?.['key'] === 'io.grpc.channel_id');
}
