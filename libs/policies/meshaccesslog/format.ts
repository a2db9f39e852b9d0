import type { Format } from './api.ts';

/** Kuma's default formats (meshaccesslog/plugin/xds/configurer.go). */
export const DEFAULT_TCP_FORMAT =
  '[%START_TIME%] %RESPONSE_FLAGS% %KUMA_MESH% %KUMA_SOURCE_ADDRESS_WITHOUT_PORT%(%KUMA_SOURCE_SERVICE%)->%UPSTREAM_HOST%(%KUMA_DESTINATION_SERVICE%) took %DURATION%ms, sent %BYTES_SENT% bytes, received: %BYTES_RECEIVED% bytes';
export const DEFAULT_HTTP_FORMAT =
  '[%START_TIME%] %KUMA_MESH% "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-B3-TRACEID?X-DATADOG-TRACEID)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%KUMA_SOURCE_SERVICE%" "%KUMA_DESTINATION_SERVICE%" "%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%" "%UPSTREAM_HOST%"';

/** What Kuma substitutes itself before Envoy sees a format (pkg/envoy/accesslog/v3 InterpolationVariables). */
export interface KumaValues {
  readonly mesh: string;
  readonly sourceIp: string;
  readonly sourceService: string;
  readonly destinationService: string;
  readonly direction: 'INBOUND' | 'OUTBOUND';
}

/** Replaces Kuma's `%KUMA_*%` commands; every other command is Envoy's and stays. */
export function interpolate(format: string, v: KumaValues): string {
  const vars: Record<string, string> = {
    KUMA_SOURCE_ADDRESS: `${v.sourceIp.includes(':') ? `[${v.sourceIp}]` : v.sourceIp}:0`,
    KUMA_SOURCE_ADDRESS_WITHOUT_PORT: v.sourceIp,
    KUMA_SOURCE_SERVICE: v.sourceService,
    KUMA_DESTINATION_SERVICE: v.destinationService,
    KUMA_MESH: v.mesh,
    KUMA_TRAFFIC_DIRECTION: v.direction,
  };
  return format.replace(/%(KUMA_[A-Z_]+)%/g, (all, name: string) => vars[name] ?? all);
}

/** A format's JSON fields, interpolated (entries without a key or value are skipped, as Kuma does). */
export function jsonFields(format: Format, v: KumaValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of format.json ?? []) if (typeof kv.key === 'string' && typeof kv.value === 'string') out[kv.key] = interpolate(kv.value, v);
  return out;
}
