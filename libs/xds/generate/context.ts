import { LRUCache } from 'lru-cache';
import type { MeshState } from '../../mesh-view/mesh-view.ts';
import type { Resource } from '../../resources/resource.ts';
import { isObject, type JsonObject } from '../../resources/validation.ts';
import type { XdsResource } from '../resource.ts';

/** Everything a configurer may read to build one proxy's resources. Read-only. */
export interface ProxyContext {
  readonly mesh: string;
  readonly dataplane: Resource;
  readonly view: MeshState;
  /** Cache for resources shared across proxies (per service); see SharedResources. */
  readonly shared: SharedCache;
}

/** Memoises resources that many proxies share, keyed by what they are built from. */
export interface SharedCache {
  get(key: string, build: () => XdsResource): XdsResource;
}

/**
 * Builds a resource through the shared cache, keyed by everything it is built from: a proxy
 * whose inputs did not change gets the same (already encoded and hashed) object back.
 */
export function memo(ctx: ProxyContext, kind: string, inputs: unknown, build: () => XdsResource): XdsResource {
  return ctx.shared.get(`${kind}\u0000${JSON.stringify(inputs)}`, build);
}

/** A bounded cache that evicts the least recently used resources (lru-cache). */
export class MapSharedCache implements SharedCache {
  private readonly lru = new LRUCache<string, XdsResource>({ max: 100_000 });
  get(key: string, build: () => XdsResource): XdsResource {
    let r = this.lru.get(key);
    if (!r) {
      r = build();
      this.lru.set(key, r);
    }
    return r;
  }
}

export const networking = (dp: Resource): JsonObject => (isObject(dp.spec['networking']) ? dp.spec['networking'] : {});

export function inbounds(dp: Resource): JsonObject[] {
  const n = networking(dp);
  return (Array.isArray(n['inbound']) ? n['inbound'] : []).filter(isObject);
}

export function outbounds(dp: Resource): JsonObject[] {
  const n = networking(dp);
  return (Array.isArray(n['outbound']) ? n['outbound'] : []).filter(isObject);
}

export const dataplaneAddress = (dp: Resource): string => String(networking(dp)['address'] ?? '');
