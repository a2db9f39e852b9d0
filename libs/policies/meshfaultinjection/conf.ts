/**
 * MeshFaultInjection's merged `default` (api/v1alpha1/meshfaultinjection.go), in Kuma's field
 * names: a list of faults, each becoming one fault filter.
 */
export interface MeshFaultInjectionConf {
  readonly http?: readonly FaultInjectionConf[];
}

export interface FaultInjectionConf {
  readonly abort?: { readonly httpStatus: number; readonly percentage: number | string };
  /** `value` is a Go duration. */
  readonly delay?: { readonly value: string; readonly percentage: number | string };
  /** `limit` like `100kbps`, `10Mbps`, `1Gbps`. */
  readonly responseBandwidth?: { readonly limit: string; readonly percentage: number | string };
}
