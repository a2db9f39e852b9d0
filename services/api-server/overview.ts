import { DataplaneType } from '../../libs/resources/dataplane.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import { isObject, type JsonObject } from '../../libs/resources/validation.ts';
import type { Status } from './listing.ts';
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

/**
 * Kuma's DataplaneOverview status: Online while a subscription is connected (Partially degraded
 * when an inbound reports itself not ready), Offline otherwise.
 */
export function dataplaneStatus(r: Resource, insight: Record<string, unknown> | undefined): Status {
  const subs = Array.isArray(insight?.['subscriptions']) ? insight['subscriptions'] : [];
  const online = subs.some((s) => isObject(s) && s['connectTime'] !== undefined && s['disconnectTime'] === undefined);
  if (!online) return 'Offline';
  const net = r.spec['networking'];
  const inbounds = isObject(net) && Array.isArray(net['inbound']) ? net['inbound'] : [];
  const degraded = inbounds.some((i) => isObject(i) && isObject(i['health']) && i['health']['ready'] === false);
  return degraded ? 'Partially degraded' : 'Online';
}
