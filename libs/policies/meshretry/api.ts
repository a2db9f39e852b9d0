import type { TargetRef } from '../core/target-ref.ts';

/** MeshRetry's spec (pkg/plugins/policies/meshretry/api/v1alpha1/meshretry.go). */
export interface MeshRetrySpec {
  readonly targetRef?: TargetRef;
  readonly to?: readonly { readonly targetRef: TargetRef; readonly default?: MeshRetryConf }[];
}

export interface BackOff {
  readonly baseInterval?: string;
  readonly maxInterval?: string;
}

export interface RateLimitedBackOff {
  readonly resetHeaders?: readonly { readonly name: string; readonly format: 'Seconds' | 'UnixTimestamp' }[];
  readonly maxInterval?: string;
}

export interface HeaderMatch {
  readonly type?: string;
  readonly name: string;
  readonly value?: string;
}

export interface MeshRetryConf {
  readonly tcp?: { readonly maxConnectAttempt?: number };
  readonly http?: {
    readonly numRetries?: number;
    readonly perTryTimeout?: string;
    readonly backOff?: BackOff;
    readonly rateLimitedBackOff?: RateLimitedBackOff;
    /** `5xx`, `GatewayError`, ..., or an HTTP status code. */
    readonly retryOn?: readonly (string | number)[];
    readonly retriableResponseHeaders?: readonly HeaderMatch[];
    readonly retriableRequestHeaders?: readonly HeaderMatch[];
    readonly hostSelection?: readonly { readonly predicate: string; readonly tags?: Record<string, string>; readonly updateFrequency?: number }[];
    readonly hostSelectionMaxAttempts?: number;
  };
  readonly grpc?: {
    readonly numRetries?: number;
    readonly perTryTimeout?: string;
    readonly backOff?: BackOff;
    readonly rateLimitedBackOff?: RateLimitedBackOff;
    readonly retryOn?: readonly ('Canceled' | 'DeadlineExceeded' | 'Internal' | 'ResourceExhausted' | 'Unavailable')[];
  };
}

export const HTTP_RETRY_ON = [
  '5xx',
  'GatewayError',
  'Reset',
  'Retriable4xx',
  'ConnectFailure',
  'EnvoyRatelimited',
  'RefusedStream',
  'Http3PostConnectFailure',
  'HttpMethodConnect',
  'HttpMethodDelete',
  'HttpMethodGet',
  'HttpMethodHead',
  'HttpMethodOptions',
  'HttpMethodPatch',
  'HttpMethodPost',
  'HttpMethodPut',
  'HttpMethodTrace',
] as const;
export const GRPC_RETRY_ON = ['Canceled', 'DeadlineExceeded', 'Internal', 'ResourceExhausted', 'Unavailable'] as const;
export const HOST_PREDICATES = ['OmitPreviousHosts', 'OmitHostsWithTags', 'OmitPreviousPriorities'] as const;

/** The status codes Go's http.StatusText knows: retryOn accepts these as numbers. */
export const KNOWN_HTTP_STATUSES: ReadonlySet<number> = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404,
  405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502,
  503, 504, 505, 506, 507, 508, 510, 511,
]);
