import type { JsonObject } from '../../resources/validation.ts';
import { durationOr, protoDuration } from '../core/proto-duration.ts';
import type { HeaderModifier, MeshHealthCheckConf } from './conf.ts';

/** Kuma's meshhealthcheck Configurer (plugin/xds/configurer.go). */
const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_UNHEALTHY_THRESHOLD = 5;
const DEFAULT_HEALTHY_THRESHOLD = 1;

export type HealthCheckType = 'tcp' | 'http' | 'grpc' | 'none';

/** Kuma's selectHealthCheckType: the service's protocol picks the checker; a disabled http/grpc checker falls back to tcp. */
export function selectHealthCheckType(protocol: string, conf: MeshHealthCheckConf): HealthCheckType {
  const on = (c: { disabled?: boolean } | undefined) => c !== undefined && c.disabled !== true;
  const off = (c: { disabled?: boolean } | undefined) => c !== undefined && c.disabled === true;
  const httpish = protocol === 'http' || protocol === 'http2';
  if (httpish && on(conf.http)) return 'http';
  if (protocol === 'grpc' && on(conf.grpc)) return 'grpc';
  if (protocol === 'tcp' && on(conf.tcp)) return 'tcp';
  if (httpish && off(conf.http) && on(conf.tcp)) return 'tcp';
  if (protocol === 'grpc' && off(conf.grpc) && on(conf.tcp)) return 'tcp';
  return 'none';
}

/** Kuma's tags.Serialize: `&key=v1,v2&` per key, keys and values sorted. */
export function serializeTags(tags: Readonly<Record<string, readonly string[]>>): string {
  return Object.keys(tags)
    .sort()
    .map((k) => `&${k}=${[...tags[k]!].sort().join(',')}&`)
    .join('');
}

function headers(mod: HeaderModifier | undefined, srcTags: string): JsonObject[] {
  const out: JsonObject[] = [];
  if (srcTags !== '') out.push({ header: { key: 'x-kuma-tags', value: srcTags } });
  // APPEND_IF_EXISTS_OR_ADD is the enum's default: it is not written.
  for (const h of mod?.add ?? []) for (const value of h.value.split(',')) out.push({ header: { key: h.name, value } });
  for (const h of mod?.set ?? []) for (const value of h.value.split(',')) out.push({ header: { key: h.name, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  return out;
}

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

function checker(type: Exclude<HealthCheckType, 'none'>, conf: MeshHealthCheckConf, protocol: string, srcTags: string): JsonObject {
  if (type === 'tcp') {
    const tcp: JsonObject = {};
    if (conf.tcp?.send !== undefined) tcp['send'] = { text: hex(conf.tcp.send) };
    if (conf.tcp?.receive !== undefined) tcp['receive'] = conf.tcp.receive.map((r) => ({ text: hex(r) }));
    return { tcp_health_check: tcp };
  }
  if (type === 'http') {
    const http = conf.http!;
    const h: JsonObject = { path: http.path ?? '/' };
    const hs = headers(http.requestHeadersToAdd, srcTags);
    if (hs.length > 0) h['request_headers_to_add'] = hs;
    if (http.expectedStatuses) h['expected_statuses'] = http.expectedStatuses.map((s) => ({ start: s, end: s + 1 }));
    if (protocol === 'http2') h['codec_client_type'] = 'HTTP2';
    return { http_health_check: h };
  }
  const g: JsonObject = {};
  if (conf.grpc?.serviceName) g['service_name'] = conf.grpc.serviceName;
  if (conf.grpc?.authority) g['authority'] = conf.grpc.authority;
  return { grpc_health_check: g };
}

/** Kuma's buildHealthCheck plus the checker. */
export function healthCheck(type: Exclude<HealthCheckType, 'none'>, conf: MeshHealthCheckConf, protocol: string, srcTags: string): JsonObject {
  const hc: JsonObject = {
    timeout: durationOr(conf.timeout, DEFAULT_TIMEOUT_MS),
    interval: durationOr(conf.interval, DEFAULT_INTERVAL_MS),
    unhealthy_threshold: { value: conf.unhealthyThreshold ?? DEFAULT_UNHEALTHY_THRESHOLD },
    healthy_threshold: { value: conf.healthyThreshold ?? DEFAULT_HEALTHY_THRESHOLD },
    ...checker(type, conf, protocol, srcTags),
  };
  if (conf.initialJitter !== undefined) hc['initial_jitter'] = protoDuration(conf.initialJitter);
  if (conf.intervalJitter !== undefined) hc['interval_jitter'] = protoDuration(conf.intervalJitter);
  if (conf.intervalJitterPercent !== undefined) hc['interval_jitter_percent'] = conf.intervalJitterPercent;
  if (conf.eventLogPath !== undefined) {
    hc['event_logger'] = [
      {
        name: 'envoy.health_check.event_sinks.file',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.health_check.event_sinks.file.v3.HealthCheckEventFileSink', event_log_path: conf.eventLogPath },
      },
    ];
  }
  if (conf.alwaysLogHealthCheckFailures !== undefined) hc['always_log_health_check_failures'] = conf.alwaysLogHealthCheckFailures;
  if (conf.noTrafficInterval !== undefined) hc['no_traffic_interval'] = protoDuration(conf.noTrafficInterval);
  if (conf.reuseConnection !== undefined) hc['reuse_connection'] = { value: conf.reuseConnection };
  return hc;
}

export class InvalidPercentError extends Error {
  override readonly name = 'InvalidPercentError';
}

/** Kuma's Configure: panic threshold and fail-traffic-on-panic on the cluster's common LB config, then the health check. */
export function configureCluster(cluster: JsonObject, conf: MeshHealthCheckConf, protocol: string, srcTags: string): void {
  if (conf.healthyPanicThreshold !== undefined) {
    const value = Number(conf.healthyPanicThreshold);
    if (!Number.isFinite(value)) throw new InvalidPercentError(`invalid healthyPanicThreshold ${JSON.stringify(conf.healthyPanicThreshold)}`);
    const common = (cluster['common_lb_config'] ??= {}) as JsonObject;
    common['healthy_panic_threshold'] = { value };
  }
  if (conf.failTrafficOnPanic !== undefined) {
    const common = (cluster['common_lb_config'] ??= {}) as JsonObject;
    if (common['locality_weighted_lb_config'] === undefined) {
      const zoneAware = (common['zone_aware_lb_config'] ??= {}) as JsonObject;
      if (conf.failTrafficOnPanic) zoneAware['fail_traffic_on_panic'] = true;
    }
  }
  const type = selectHealthCheckType(protocol, conf);
  if (type === 'none') return;
  cluster['health_checks'] = [...((cluster['health_checks'] as JsonObject[] | undefined) ?? []), healthCheck(type, conf, protocol, srcTags)];
}
