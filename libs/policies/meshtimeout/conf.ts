/** MeshTimeout's merged `default` (Kuma's api.Conf), as plugins receive it: the spec's own type. */
export type { MeshTimeoutConf } from './api.ts';

/** Kuma's defaults when a field is unset (pkg/plugins/policies/core/defaults), in milliseconds. */
export const DEFAULTS = {
  connectTimeout: 5_000,
  idleTimeout: 3_600_000,
  streamIdleTimeout: 1_800_000,
  requestTimeout: 15_000,
  requestHeadersTimeout: 0,
  maxStreamDuration: 0,
  maxConnectionDuration: 0,
} as const;
