/** MeshRetry's merged `default` (Kuma's api.Conf), as plugins receive it. Durations are Go duration strings. */
export interface HeaderMatch {
  readonly type?: 'Exact' | 'Prefix' | 'RegularExpression' | 'Present' | 'Absent';
  readonly name: string;
  readonly value?: string;
}

export interface BackOff {
  readonly baseInterval?: string;
  readonly maxInterval?: string;
}

export interface RateLimitedBackOff {
  readonly resetHeaders?: readonly { readonly name: string; readonly format: 'Seconds' | 'UnixTimestamp' }[];
  readonly maxInterval?: string;
}

export interface Predicate {
  readonly predicate: 'OmitPreviousHosts' | 'OmitHostsWithTags' | 'OmitPreviousPriorities';
  readonly tags?: Readonly<Record<string, string>>;
  readonly updateFrequency?: number;
}

export interface MeshRetryConf {
  readonly tcp?: { readonly maxConnectAttempt?: number };
  readonly http?: {
    readonly numRetries?: number;
    readonly perTryTimeout?: string;
    readonly backOff?: BackOff;
    readonly rateLimitedBackOff?: RateLimitedBackOff;
    readonly retryOn?: readonly string[];
    readonly retriableResponseHeaders?: readonly HeaderMatch[];
    readonly retriableRequestHeaders?: readonly HeaderMatch[];
    readonly hostSelection?: readonly Predicate[];
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
