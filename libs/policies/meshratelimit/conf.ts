/**
 * MeshRateLimit's merged `default` (api/v1alpha1/meshratelimit.go), in Kuma's field names.
 * Intervals are Go durations.
 */
export interface MeshRateLimitConf {
  readonly local?: {
    readonly http?: LocalHTTP;
    readonly tcp?: LocalTCP;
  };
}

export interface HeaderValue {
  readonly name: string;
  readonly value: string;
}

export interface LocalHTTP {
  readonly disabled?: boolean;
  readonly requestRate?: { readonly num: number; readonly interval: string };
  readonly onRateLimit?: {
    readonly status?: number;
    readonly headers?: { readonly set?: readonly HeaderValue[]; readonly add?: readonly HeaderValue[] };
  };
}

export interface LocalTCP {
  readonly disabled?: boolean;
  readonly connectionRate?: { readonly num: number; readonly interval: string };
}
