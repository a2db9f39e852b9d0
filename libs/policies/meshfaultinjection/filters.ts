import type { JsonObject } from '../../resources/validation.ts';
import { protoDuration } from '../core/proto-duration.ts';
import { fractionalPercent } from '../core/percentage.ts';
import type { FaultInjectionConf } from './conf.ts';

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const FAULT_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

/** A bandwidth (`<n>bps|kbps|Mbps|Gbps`) in kbit/s, as Kuma's ConvertBandwidthToKbps. */
export class BandwidthSyntaxError extends Error {
  override readonly name = 'BandwidthSyntaxError';
}

const FACTOR: Record<string, number> = { bps: 0.001, kbps: 1, Mbps: 1_000, Gbps: 1_000_000 };

export function bandwidthKbps(limit: string): number {
  const m = /^(\d+)\s?(bps|kbps|Mbps|Gbps)$/.exec(limit);
  if (!m) throw new BandwidthSyntaxError(`invalid bandwidth "${limit}"`);
  return Math.floor(Number(m[1]) * FACTOR[m[2]!]!);
}

/**
 * One HTTPFault filter per fault, as Kuma's configurer builds them. For a proxyless gRPC client
 * (`grpc`), the response bandwidth limit is left out: gRPC implements aborts and delays only.
 */
export function faultFilter(fault: FaultInjectionConf, target: 'envoy' | 'grpc'): JsonObject {
  const config: JsonObject = { '@type': FAULT_TYPE };
  if (fault.delay) config.delay = { fixed_delay: protoDuration(fault.delay.value), percentage: fractionalPercent(fault.delay.percentage) };
  if (fault.abort) config.abort = { http_status: fault.abort.httpStatus, percentage: fractionalPercent(fault.abort.percentage) };
  if (fault.responseBandwidth && target === 'envoy') {
    config.response_rate_limit = {
      fixed_limit: { limit_kbps: bandwidthKbps(fault.responseBandwidth.limit) },
      percentage: fractionalPercent(fault.responseBandwidth.percentage),
    };
  }
  return { name: FAULT_FILTER, typed_config: config };
}
