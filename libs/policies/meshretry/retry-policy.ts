import type { JsonObject } from '../../resources/validation.ts';
import { jsonToStruct } from '../../xds/ads-codec.ts';
import { parseGoDuration } from '../core/duration.ts';
import { msToProto, protoDuration } from '../core/proto-duration.ts';
import type { BackOff, HeaderMatch, MeshRetryConf, Predicate, RateLimitedBackOff } from './conf.ts';

/** Kuma's Envoy retry policies (pkg/plugins/policies/meshretry/plugin/xds/configurer.go). */
export const HTTP_RETRY_ON_DEFAULT = 'gateway-error,connect-failure,refused-stream';
export const GRPC_RETRY_ON_DEFAULT = 'cancelled,connect-failure,gateway-error,refused-stream,reset,resource-exhausted,unavailable';

const HTTP_RETRY_ON: Readonly<Record<string, string>> = {
  '5xx': '5xx',
  GatewayError: 'gateway-error',
  Reset: 'reset',
  Retriable4xx: 'retriable-4xx',
  ConnectFailure: 'connect-failure',
  EnvoyRatelimited: 'envoy-ratelimited',
  RefusedStream: 'refused-stream',
  Http3PostConnectFailure: 'http3-post-connect-failure',
};
const HTTP_METHOD_PREFIX = 'HttpMethod';

/** Kuma's GrpcRetryOnEnumToEnvoyValue, verbatim (note `canceled`: Kuma's spelling, which Envoy does not know). */
const GRPC_RETRY_ON_ENVOY: Readonly<Record<string, string>> = {
  Canceled: 'canceled',
  DeadlineExceeded: 'deadline-exceeded',
  Internal: 'internal',
  ResourceExhausted: 'resource-exhausted',
  Unavailable: 'unavailable',
};
/** gRPC's names of the same codes (gRFC A44): what a proxyless client understands. */
export const GRPC_RETRY_ON_GRPC: Readonly<Record<string, string>> = { ...GRPC_RETRY_ON_ENVOY, Canceled: 'cancelled' };

/** Go's http.StatusText(code) != "": the codes Kuma accepts as retriable status codes. */
const HTTP_STATUS_CODES = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407,
  408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508,
  510, 511,
]);

function backOff(b: BackOff): JsonObject {
  return {
    ...(b.baseInterval !== undefined ? { base_interval: protoDuration(b.baseInterval) } : {}),
    ...(b.maxInterval !== undefined ? { max_interval: protoDuration(b.maxInterval) } : {}),
  };
}

function rateLimitedBackOff(r: RateLimitedBackOff): JsonObject {
  return {
    reset_headers: (r.resetHeaders ?? []).map((h) => ({ name: h.name, ...(h.format === 'UnixTimestamp' ? { format: 'UNIX_TIMESTAMP' } : {}) })),
    ...(r.maxInterval !== undefined ? { max_interval: protoDuration(r.maxInterval) } : {}),
  };
}

export function headerMatcher(h: HeaderMatch): JsonObject {
  switch (h.type ?? 'Exact') {
    case 'RegularExpression':
      return { name: h.name, string_match: { safe_regex: { regex: h.value ?? '' } } };
    case 'Prefix':
      return { name: h.name, string_match: { prefix: h.value ?? '' } };
    case 'Present':
      return { name: h.name, present_match: true };
    case 'Absent':
      return { name: h.name, present_match: false };
    default:
      return { name: h.name, string_match: { exact: h.value ?? '' } };
  }
}

function hostSelection(predicates: readonly Predicate[], policy: JsonObject): void {
  const hostPredicates: JsonObject[] = [];
  const T = 'type.googleapis.com/envoy.extensions.retry.';
  for (const p of predicates) {
    if (p.predicate === 'OmitPreviousHosts') {
      hostPredicates.push({ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': `${T}host.previous_hosts.v3.PreviousHostsPredicate` } });
    } else if (p.predicate === 'OmitHostsWithTags') {
      hostPredicates.push({
        name: 'envoy.retry_host_predicates.omit_host_metadata',
        typed_config: {
          '@type': `${T}host.omit_host_metadata.v3.OmitHostMetadataConfig`,
          // Inside an Any the body is protobufjs' object form: a Struct as `{ fields }`.
          metadata_match: { filter_metadata: { 'envoy.lb': jsonToStruct({ ...(p.tags ?? {}) }) } },
        },
      });
    } else {
      policy['retry_priority'] = {
        name: 'envoy.retry_priorities.previous_priorities',
        typed_config: { '@type': `${T}priority.previous_priorities.v3.PreviousPrioritiesConfig`, update_frequency: p.updateFrequency ?? 2 },
      };
    }
  }
  policy['retry_host_predicate'] = hostPredicates;
}

/** Kuma's genHttpRetryPolicy; `undefined` when there is nothing to configure or numRetries is 0. */
export function httpRetryPolicy(conf: MeshRetryConf['http']): JsonObject | undefined {
  if (!conf) return undefined;
  if (conf.numRetries === 0) return undefined;
  const policy: JsonObject = { retry_on: HTTP_RETRY_ON_DEFAULT };
  if (conf.perTryTimeout !== undefined) policy['per_try_timeout'] = protoDuration(conf.perTryTimeout);
  if (conf.numRetries !== undefined) policy['num_retries'] = { value: conf.numRetries };
  if (conf.backOff) policy['retry_back_off'] = backOff(conf.backOff);
  if (conf.rateLimitedBackOff) policy['rate_limited_retry_back_off'] = rateLimitedBackOff(conf.rateLimitedBackOff);
  const retryOn: string[] = [];
  const statusCodes: number[] = [];
  const methods: string[] = [];
  for (const item of conf.retryOn ?? []) {
    const code = /^\d+$/.test(item) ? Number(item) : NaN;
    if (HTTP_STATUS_CODES.has(code)) statusCodes.push(code);
    else if (item.startsWith(HTTP_METHOD_PREFIX)) methods.push(item.slice(HTTP_METHOD_PREFIX.length).toUpperCase());
    else retryOn.push(HTTP_RETRY_ON[item] ?? '');
  }
  if (retryOn.length > 0) policy['retry_on'] = retryOn.join(',');
  if (statusCodes.length > 0) {
    policy['retriable_status_codes'] = statusCodes;
    const parts = String(policy['retry_on']).split(',');
    if (!parts.includes('retriable-status-codes')) policy['retry_on'] = [...parts, 'retriable-status-codes'].join(',');
  }
  const requestHeaders: JsonObject[] = methods.map((m) => ({ name: ':method', string_match: { exact: m } }));
  for (const h of conf.retriableRequestHeaders ?? []) requestHeaders.push(headerMatcher(h));
  if (requestHeaders.length > 0) policy['retriable_request_headers'] = requestHeaders;
  if (conf.retriableResponseHeaders) policy['retriable_headers'] = conf.retriableResponseHeaders.map(headerMatcher);
  if (conf.hostSelection) hostSelection(conf.hostSelection, policy);
  if (conf.hostSelectionMaxAttempts !== undefined) policy['host_selection_retry_max_attempts'] = conf.hostSelectionMaxAttempts;
  return policy;
}

/** Kuma's genGrpcRetryPolicy; `names` maps Kuma's retryOn values (Envoy's or gRPC's spelling). */
export function grpcRetryPolicy(conf: MeshRetryConf['grpc'], names: Readonly<Record<string, string>> = GRPC_RETRY_ON_ENVOY): JsonObject | undefined {
  if (!conf) return undefined;
  if (conf.numRetries === 0) return undefined;
  const policy: JsonObject = { retry_on: GRPC_RETRY_ON_DEFAULT };
  if (conf.perTryTimeout !== undefined) policy['per_try_timeout'] = protoDuration(conf.perTryTimeout);
  if (conf.numRetries !== undefined) policy['num_retries'] = { value: conf.numRetries };
  if (conf.retryOn && conf.retryOn.length > 0) policy['retry_on'] = conf.retryOn.map((r) => names[r] ?? '').join(',');
  if (conf.backOff) policy['retry_back_off'] = backOff(conf.backOff);
  if (conf.rateLimitedBackOff) policy['rate_limited_retry_back_off'] = rateLimitedBackOff(conf.rateLimitedBackOff);
  return policy;
}

/** Kuma's getRouteRetryConfig: HTTP retries for `http`, gRPC retries for `grpc`, none for other protocols (http2 included). */
export function routeRetryPolicy(conf: MeshRetryConf | undefined, protocol: string): JsonObject | undefined {
  if (!conf) return undefined;
  if (protocol === 'http') return httpRetryPolicy(conf.http);
  if (protocol === 'grpc') return grpcRetryPolicy(conf.grpc);
  return undefined;
}

const DEFAULT_BASE_INTERVAL_MS = 25;
const durationMs = (t: string): number => {
  const p = parseGoDuration(t);
  return p.ok ? p.ms : Infinity;
};

/**
 * The retry policy a proxyless gRPC client is given: gRPC's status-code names, and a base
 * interval whenever there is a back-off (gRPC rejects a back-off without one; 25ms is Envoy's
 * default) and a max interval no lower than it.
 */
export function proxylessGrpcRetryPolicy(conf: MeshRetryConf | undefined): JsonObject | undefined {
  const policy = grpcRetryPolicy(conf?.grpc, GRPC_RETRY_ON_GRPC);
  if (!policy) return undefined;
  const b = policy['retry_back_off'] as JsonObject | undefined;
  if (b && b['base_interval'] === undefined) {
    const maxMs = conf?.grpc?.backOff?.maxInterval !== undefined ? durationMs(conf.grpc.backOff.maxInterval) : Infinity;
    b['base_interval'] = msToProto(Math.min(DEFAULT_BASE_INTERVAL_MS, maxMs));
  }
  return policy;
}
