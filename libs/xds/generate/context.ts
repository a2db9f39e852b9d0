import { LRUCache } from 'lru-cache';
import type { MeshChange, MeshState, ServiceView } from '../../mesh-view/mesh-view.ts';
import type { DataplaneModel } from '../../resources/dataplane-model.ts';
import type { Resource } from '../../resources/resource.ts';
import type { XdsResource } from '../resource.ts';

/** Everything a configurer may read to build one proxy's parts. Read-only. */
export interface ProxyContext {
  readonly mesh: string;
  readonly dataplane: Resource;
  /** The Dataplane's typed model (parsed once per resource version). */
  readonly model: DataplaneModel;
  readonly view: MeshState;
  /**
   * Whether a transparent proxy keeps its outbound to a service of the mesh (see OutboundTrim);
   * absent: it keeps them all.
   */
  readonly reachable?: (service: string) => boolean;
}

/**
 * Trims transparent proxies' outbounds to the services they may call: Kuma's automatic reachable
 * services (`KUMA_EXPERIMENTAL_AUTO_REACHABLE_SERVICES`), from MeshTrafficPermissions. Injected into
 * the translator and the projector, so libs/xds imports no policy.
 */
export interface OutboundTrim {
  /** Which services the proxy keeps outbounds to, or `undefined` for every service (no trimming applies). */
  reachableFrom(view: MeshState, model: DataplaneModel): ((service: string) => boolean) | undefined;
  /**
   * After a policy changed in the view: the Dataplanes whose reachable services it changed
   * (their outbounds are to be rebuilt), compared with what was last computed.
   */
  affectedBy(view: MeshState, policy: NonNullable<MeshChange['policy']>): Iterable<string>;
}

/** Rebuilds a by-reference resource (see XdsResource.shareKey) from a service's new state. */
export type SlotBuilder = (svc: ServiceView) => XdsResource;

/**
 * Resources shared across proxies, by what they are built from: a translation whose inputs did
 * not change gets the same (already encoded and hashed) objects back. It also knows the slots
 * of by-reference resources per service, so an endpoint change rebuilds each slot once.
 */
export interface SharedCache {
  get<T>(key: string, build: () => T): T;
  /** Records how to rebuild the slot `shareKey` of a service of a mesh; the latest builder wins. */
  setSlot(mesh: string, service: string, shareKey: string, rebuild: SlotBuilder): void;
  /** The slots of a service, as `[shareKey, rebuild]`. */
  slotsOf(mesh: string, service: string): Iterable<readonly [string, SlotBuilder]>;
  /** Forgets a service's slots (it is gone). */
  dropSlots(mesh: string, service: string): void;
}

/** A bounded cache that evicts the least recently used resources (lru-cache), and the slot registry. */
export class MapSharedCache implements SharedCache {
  private readonly lru = new LRUCache<string, { v: unknown }>({ max: 100_000 });
  private readonly slots = new Map<string, Map<string, SlotBuilder>>();

  get<T>(key: string, build: () => T): T {
    let r = this.lru.get(key);
    if (!r) {
      r = { v: build() };
      this.lru.set(key, r);
    }
    return r.v as T;
  }

  setSlot(mesh: string, service: string, shareKey: string, rebuild: SlotBuilder): void {
    const key = `${mesh}\u0000${service}`;
    let byKey = this.slots.get(key);
    if (!byKey) this.slots.set(key, (byKey = new Map()));
    byKey.set(shareKey, rebuild);
  }

  slotsOf(mesh: string, service: string): Iterable<readonly [string, SlotBuilder]> {
    return this.slots.get(`${mesh}\u0000${service}`)?.entries() ?? [];
  }

  dropSlots(mesh: string, service: string): void {
    this.slots.delete(`${mesh}\u0000${service}`);
  }
}
