import type { JsonObject } from '../../resources/validation.ts';
import { protoDuration } from '../core/proto-duration.ts';
import type { MeshCircuitBreakerConf } from './conf.ts';

/** Kuma's meshcircuitbreaker Configurer (plugin/xds/configurer.go): thresholds and outlier detection on a cluster. */
type Detectors = NonNullable<NonNullable<MeshCircuitBreakerConf['outlierDetection']>['detectors']>;

const u32 = (value: number): JsonObject => ({ value });

function circuitBreakers(cluster: JsonObject, limits: MeshCircuitBreakerConf['connectionLimits']): void {
  if (!limits) return;
  const t: JsonObject = { priority: 'DEFAULT' };
  if (limits.maxConnectionPools !== undefined) t['max_connection_pools'] = u32(limits.maxConnectionPools);
  if (limits.maxConnections !== undefined) t['max_connections'] = u32(limits.maxConnections);
  if (limits.maxPendingRequests !== undefined) t['max_pending_requests'] = u32(limits.maxPendingRequests);
  if (limits.maxRetries !== undefined) t['max_retries'] = u32(limits.maxRetries);
  if (limits.maxRequests !== undefined) t['max_requests'] = u32(limits.maxRequests);
  cluster['circuit_breakers'] = { thresholds: [t] };
}

/** Kuma's decimal (int or string, e.g. "1.9") times 1000, truncated: Envoy's success_rate_stdev_factor. */
function stdevFactor(v: number | string): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new InvalidDecimalError(`invalid standardDeviationFactor ${JSON.stringify(v)}`);
  return Math.trunc(Math.round(n * 1e6) / 1e3);
}

export class InvalidDecimalError extends Error {
  override readonly name = 'InvalidDecimalError';
}

function detectors(od: JsonObject, d: Detectors | undefined): void {
  const consecutive = (conf: { consecutive?: number } | undefined, enforcing: string, field: string) => {
    if (conf?.consecutive === undefined) od[enforcing] = u32(0);
    else {
      od[enforcing] = u32(100);
      od[field] = u32(conf.consecutive);
    }
  };
  consecutive(d?.totalFailures, 'enforcing_consecutive_5xx', 'consecutive_5xx');
  consecutive(d?.localOriginFailures, 'enforcing_consecutive_local_origin_failure', 'consecutive_local_origin_failure');
  consecutive(d?.gatewayFailures, 'enforcing_consecutive_gateway_failure', 'consecutive_gateway_failure');
  // Kuma configures success rate and failure percentage only when detectors are given.
  if (!d) return;
  const sr = d.successRate;
  od['enforcing_success_rate'] = u32(sr ? 100 : 0);
  od['enforcing_local_origin_success_rate'] = u32(sr ? 100 : 0);
  if (sr?.minimumHosts !== undefined) od['success_rate_minimum_hosts'] = u32(sr.minimumHosts);
  if (sr?.requestVolume !== undefined) od['success_rate_request_volume'] = u32(sr.requestVolume);
  if (sr?.standardDeviationFactor !== undefined) od['success_rate_stdev_factor'] = u32(stdevFactor(sr.standardDeviationFactor));
  const fp = d.failurePercentage;
  od['enforcing_failure_percentage'] = u32(fp ? 100 : 0);
  od['enforcing_failure_percentage_local_origin'] = u32(fp ? 100 : 0);
  if (fp?.minimumHosts !== undefined) od['failure_percentage_minimum_hosts'] = u32(fp.minimumHosts);
  if (fp?.requestVolume !== undefined) od['failure_percentage_request_volume'] = u32(fp.requestVolume);
  if (fp?.threshold !== undefined) od['failure_percentage_threshold'] = u32(fp.threshold);
}

function outlierDetection(cluster: JsonObject, conf: MeshCircuitBreakerConf['outlierDetection']): void {
  if (conf?.healthyPanicThreshold !== undefined) {
    // Set whenever given (also with detection disabled): it bounds how many hosts may count as unhealthy.
    const value = Number(conf.healthyPanicThreshold);
    if (!Number.isFinite(value)) throw new InvalidDecimalError(`invalid healthyPanicThreshold ${JSON.stringify(conf.healthyPanicThreshold)}`);
    ((cluster['common_lb_config'] ??= {}) as JsonObject)['healthy_panic_threshold'] = { value };
  }
  if (!conf || conf.disabled === true) return;
  const od: JsonObject = {};
  if (conf.interval !== undefined) od['interval'] = protoDuration(conf.interval);
  if (conf.baseEjectionTime !== undefined) od['base_ejection_time'] = protoDuration(conf.baseEjectionTime);
  if (conf.splitExternalAndLocalErrors !== undefined) od['split_external_local_origin_errors'] = conf.splitExternalAndLocalErrors;
  if (conf.maxEjectionPercent !== undefined) od['max_ejection_percent'] = u32(conf.maxEjectionPercent);
  detectors(od, conf.detectors);
  cluster['outlier_detection'] = od;
}

export function configureCluster(cluster: JsonObject, conf: MeshCircuitBreakerConf): void {
  circuitBreakers(cluster, conf.connectionLimits);
  outlierDetection(cluster, conf.outlierDetection);
}
