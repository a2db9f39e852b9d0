import type { TargetRef } from '../core/target-ref.ts';

/** MeshAccessLog's spec (pkg/plugins/policies/meshaccesslog/api/v1alpha1). */
export interface MeshAccessLogSpec {
  readonly targetRef?: TargetRef;
  readonly to?: readonly { readonly targetRef: TargetRef; readonly default?: MeshAccessLogConf }[];
  readonly from?: readonly { readonly targetRef: TargetRef; readonly default?: MeshAccessLogConf }[];
  readonly rules?: readonly { readonly matches?: readonly unknown[]; readonly default?: MeshAccessLogConf }[];
}

export interface Format {
  readonly type: 'Plain' | 'Json';
  readonly plain?: string;
  readonly json?: readonly { readonly key: string; readonly value: string }[];
  readonly omitEmptyValues?: boolean;
}

export interface MeshAccessLogConf {
  readonly backends?: readonly {
    readonly type: 'Tcp' | 'File' | 'OpenTelemetry';
    readonly tcp?: { readonly format?: Format; readonly address: string };
    readonly file?: { readonly format?: Format; readonly path: string };
    readonly openTelemetry?: { readonly endpoint?: string; readonly backendRef?: { readonly kind: string; readonly name?: string }; readonly attributes?: readonly { key: string; value: string }[]; readonly body?: unknown };
  }[];
}
