/** MeshCircuitBreaker's merged `default` (Kuma's api.Conf), as plugins receive it: the spec's own type. */
export type { MeshCircuitBreakerConf } from './api.ts';
