import type { MeshHealthCheckConf } from './api.ts';

/** MeshHealthCheck's merged `default` (Kuma's api.Conf), as plugins receive it: the spec's own type. Durations are Go duration strings. */
export type { MeshHealthCheckConf } from './api.ts';

export type HeaderModifier = NonNullable<NonNullable<MeshHealthCheckConf['http']>['requestHeadersToAdd']>;
