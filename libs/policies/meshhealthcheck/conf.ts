/** MeshHealthCheck's merged `default` (Kuma's api.Conf), as plugins receive it. Durations are Go duration strings. */
export interface HeaderModifier {
  readonly add?: readonly { readonly name: string; readonly value: string }[];
  readonly set?: readonly { readonly name: string; readonly value: string }[];
}

export interface MeshHealthCheckConf {
  readonly interval?: string;
  readonly timeout?: string;
  readonly unhealthyThreshold?: number;
  readonly healthyThreshold?: number;
  readonly initialJitter?: string;
  readonly intervalJitter?: string;
  readonly intervalJitterPercent?: number;
  readonly healthyPanicThreshold?: number | string;
  readonly failTrafficOnPanic?: boolean;
  readonly eventLogPath?: string;
  readonly alwaysLogHealthCheckFailures?: boolean;
  readonly noTrafficInterval?: string;
  readonly reuseConnection?: boolean;
  readonly tcp?: { readonly disabled?: boolean; readonly send?: string; readonly receive?: readonly string[] };
  readonly http?: { readonly disabled?: boolean; readonly path?: string; readonly requestHeadersToAdd?: HeaderModifier; readonly expectedStatuses?: readonly number[] };
  readonly grpc?: { readonly disabled?: boolean; readonly serviceName?: string; readonly authority?: string };
}
