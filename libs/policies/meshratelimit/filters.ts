import type { JsonObject } from '../../resources/validation.ts';
import { protoDuration } from '../core/proto-duration.ts';
import type { LocalHTTP, LocalTCP } from './conf.ts';

/** Envoy's local rate limit filters as Kuma configures them (meshratelimit/plugin/xds/configurer.go, routes/v3 rate_limit.go). */
export const HTTP_RATE_LIMIT_FILTER = 'envoy.filters.http.local_ratelimit';
/** Kuma names the network filter after its type. */
export const TCP_RATE_LIMIT_FILTER = 'envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit';
export const HTTP_RATE_LIMIT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
export const TCP_RATE_LIMIT_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit';

/** The HCM filter: enabled per route through typed_per_filter_config. */
export const httpRateLimitFilter = (): JsonObject => ({ name: HTTP_RATE_LIMIT_FILTER, typed_config: { '@type': HTTP_RATE_LIMIT_TYPE, stat_prefix: 'rate_limit' } });

/** The per-route configuration, or `undefined` when disabled or without a request rate. */
export function routeRateLimit(conf: LocalHTTP): JsonObject | undefined {
  if (conf.disabled || !conf.requestRate) return undefined;
  const headers: JsonObject[] = [];
  for (const h of conf.onRateLimit?.headers?.add ?? []) headers.push({ header: { key: h.name, value: h.value } });
  for (const h of conf.onRateLimit?.headers?.set ?? []) {
    for (const value of h.value.split(',')) headers.push({ header: { key: h.name, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  }
  const status = conf.onRateLimit?.status;
  return {
    '@type': HTTP_RATE_LIMIT_TYPE,
    stat_prefix: 'rate_limit',
    ...(status ? { status: { code: status } } : {}),
    token_bucket: { max_tokens: conf.requestRate.num, tokens_per_fill: { value: conf.requestRate.num }, fill_interval: protoDuration(conf.requestRate.interval) },
    filter_enabled: { runtime_key: 'local_rate_limit_enabled', default_value: { numerator: 100 } },
    filter_enforced: { runtime_key: 'local_rate_limit_enforced', default_value: { numerator: 100 } },
    ...(headers.length ? { response_headers_to_add: headers } : {}),
  };
}

/** The network filter, or `undefined` when disabled or without a connection rate. */
export function tcpRateLimitFilter(conf: LocalTCP): JsonObject | undefined {
  if (conf.disabled || !conf.connectionRate) return undefined;
  const { num, interval } = conf.connectionRate;
  return {
    name: TCP_RATE_LIMIT_FILTER,
    typed_config: { '@type': TCP_RATE_LIMIT_TYPE, stat_prefix: 'tcp_rate_limit', token_bucket: { max_tokens: num, tokens_per_fill: { value: num }, fill_interval: protoDuration(interval) } },
  };
}
