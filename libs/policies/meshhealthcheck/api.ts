import type { TargetRef } from '../core/target-ref.ts';

/** MeshHealthCheck's spec (pkg/plugins/policies/meshhealthcheck/api/v1alpha1). */
export interface MeshHealthCheckSpec {
  readonly targetRef?: TargetRef;
  readonly to?: readonly { readonly targetRef: TargetRef; readonly default?: MeshHealthCheckConf }[];
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
  readonly noTrafficInterval?: string;
  readonly eventLogPath?: string;
  readonly alwaysLogHealthCheckFailures?: boolean;
  readonly reuseConnection?: boolean;
  readonly http?: {
    readonly disabled?: boolean;
    readonly path?: string;
    readonly expectedStatuses?: readonly number[];
    readonly requestHeadersToAdd?: { readonly set?: readonly { name: string; value: string }[]; readonly add?: readonly { name: string; value: string }[] };
  };
  readonly tcp?: { readonly disabled?: boolean; readonly send?: string; readonly receive?: readonly string[] };
  readonly grpc?: { readonly disabled?: boolean; readonly serviceName?: string; readonly authority?: string };
}

export const CONF_FIELDS = [
  'interval',
  'timeout',
  'unhealthyThreshold',
  'healthyThreshold',
  'initialJitter',
  'intervalJitter',
  'intervalJitterPercent',
  'healthyPanicThreshold',
  'failTrafficOnPanic',
  'noTrafficInterval',
  'eventLogPath',
  'alwaysLogHealthCheckFailures',
  'reuseConnection',
  'http',
  'tcp',
  'grpc',
] as const;
