import { DataplaneType } from '../../libs/resources/dataplane.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import type { JsonObject } from '../../libs/resources/validation.ts';
import { encodeResource } from '../../libs/resources/wire.ts';

/**
 * Kuma's DataplaneOverview: the Dataplane's meta (with the Dataplane's KRI, as Kuma's overview
 * types reuse their base type's), its spec under `dataplane`, and its insight when one is known.
 */
export function encodeDataplaneOverview(r: Resource, insight: Record<string, unknown> | undefined): JsonObject {
  const { type: _type, mesh, name, creationTime, modificationTime, labels, kri, ...spec } = encodeResource(r, DataplaneType);
  return {
    type: 'DataplaneOverview',
    mesh,
    name,
    creationTime,
    modificationTime,
    ...(labels ? { labels } : {}),
    ...(kri !== undefined ? { kri } : {}),
    dataplane: spec,
    ...(insight ? { dataplaneInsight: insight } : {}),
  };
}
