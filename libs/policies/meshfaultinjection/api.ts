import type { TargetRef } from '../core/target-ref.ts';

/** A percentage: an integer or a string holding a decimal (`"99.5"`). */
export type Percentage = number | string;

/** MeshFaultInjection's spec (pkg/plugins/policies/meshfaultinjection/api/v1alpha1). */
export interface MeshFaultInjectionSpec {
  readonly targetRef?: TargetRef;
  /** Only when the top-level targetRef includes gateways. */
  readonly to?: readonly { readonly targetRef: TargetRef; readonly default?: MeshFaultInjectionConf }[];
  readonly from?: readonly { readonly targetRef: TargetRef; readonly default?: MeshFaultInjectionConf }[];
  readonly rules?: readonly { readonly matches?: readonly unknown[]; readonly default?: MeshFaultInjectionConf }[];
}

export interface MeshFaultInjectionConf {
  readonly http?: readonly {
    readonly abort?: { readonly httpStatus: number; readonly percentage: Percentage };
    readonly delay?: { readonly value: string; readonly percentage: Percentage };
    readonly responseBandwidth?: { readonly limit: string; readonly percentage: Percentage };
  }[];
}
