import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ContentStore } from '../../libs/snapshot-store/content-store.ts';
import { manifestOf, type ManifestStore } from '../../libs/snapshot-store/manifest.ts';
import type { XdsResource } from '../../libs/xds/resource.ts';
import type { SnapshotSink } from '../../libs/xds/snapshot-cache.ts';
import type { Snapshot } from '../../libs/xds/snapshot.ts';
import type { XdsMetrics } from '../../libs/xds/metrics.ts';
import type { Membership } from '../../libs/snapshot-store/membership.ts';

const MAX_IN_FLIGHT = 128;
/** Backoff between attempts of a failed publication (NATS down, a KV timeout). */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;

/**
 * The projector's sink: wants the proxies of its share, and publishes each new snapshot as
 * content (each resource once, by hash) followed by the proxy's manifest, so a gateway that
 * sees the manifest finds its content. Publications of one proxy are applied in order; at
 * most MAX_IN_FLIGHT proxies publish at once. A failed publication is retried with backoff
 * until it succeeds or a newer one of the same key replaces it (a write lost while NATS was
 * down would otherwise leave the proxy on old configuration until its next change).
 */
export class ManifestPublisher implements SnapshotSink {
  private readonly chains = new Map<string, Promise<void>>();
  private inFlight = 0;
  private readonly queue: (() => void)[] = [];
  private owned = new Set<string>();
  /** Service keys (ManifestStore.serviceKey) of the by-name resources this projector publishes. */
  private ownedServices = new Set<string>();
  private stopped = false;
  /** A service's manifest names its ClusterLoadAssignment by the shared pointer, which gateways follow. */
  readonly servicesShareLoadAssignments = true;

  constructor(
    private readonly content: ContentStore,
    private readonly manifests: ManifestStore,
    private readonly membership: Membership,
    /** The log position the generator's views are at. */
    private readonly position: () => number,
    private readonly metrics: XdsMetrics,
    private readonly logger: Logger,
  ) {}

  wants(proxyKey: string): boolean {
    return this.membership.owns(proxyKey);
  }

  /**
   * Recomputes the share from the current proxies: returns those that are new to it (to be
   * generated now); forgets those that moved away.
   */
  reshare(all: Iterable<string>): string[] {
    const next = new Set<string>();
    const gained: string[] = [];
    for (const key of all) {
      if (!this.membership.owns(key)) continue;
      next.add(key);
      if (!this.owned.has(key)) gained.push(key);
    }
    for (const key of this.owned) if (!next.has(key)) this.manifests.forget(key);
    this.owned = next;
    this.metrics.ownedProxies.set(next.size);
    return gained;
  }

  /** Service keys some gateway asks for (ManifestStore.watchDemand). */
  private readonly demanded = new Set<string>();

  /**
   * A service's by-name resources are published while some gateway asks for them, each by one
   * projector (the same hashing as proxies). Returns whether this projector should now build them.
   */
  setDemand(serviceKey: string, demanded: boolean): boolean {
    if (!demanded) {
      this.demanded.delete(serviceKey);
      return false;
    }
    this.demanded.add(serviceKey);
    return this.membership.owns(serviceKey);
  }

  wantsService(mesh: string, service: string): boolean {
    const key = this.manifests.serviceKey(mesh, service);
    return this.demanded.has(key) && this.membership.owns(key);
  }

  /** As `reshare`, for the services' by-name resources: returns the services new to this share. */
  reshareServices(all: Iterable<readonly [string, string]>): (readonly [string, string])[] {
    const next = new Set<string>();
    const gained: (readonly [string, string])[] = [];
    for (const [mesh, service] of all) {
      const key = this.manifests.serviceKey(mesh, service);
      if (!this.demanded.has(key) || !this.membership.owns(key)) continue;
      next.add(key);
      if (!this.ownedServices.has(key)) gained.push([mesh, service]);
    }
    for (const key of this.ownedServices) if (!next.has(key)) this.manifests.forget(key);
    this.ownedServices = next;
    return gained;
  }

  /** New by-name resources of a service: content and the CLA's pointer, then its manifest (under the service's key). */
  setService(mesh: string, service: string, snapshot: Snapshot | undefined): void {
    const position = this.position();
    const key = this.manifests.serviceKey(mesh, service);
    if (snapshot) this.ownedServices.add(key);
    this.enqueue(key, () => this.publish(key, snapshot, position, mesh), { mesh, service }, 'publishing a service\'s by-name resources failed');
  }

  set(proxyKey: string, snapshot: Snapshot | undefined): void {
    const position = this.position();
    if (snapshot) this.owned.add(proxyKey);
    else this.owned.delete(proxyKey);
    this.metrics.ownedProxies.set(this.owned.size);
    this.enqueue(proxyKey, () => this.publish(proxyKey, snapshot, position), { proxy: proxyKey }, 'publishing a snapshot failed');
  }

  /** New content of a by-reference resource's slot in a mesh: the content, then the slot's pointer. */
  setShared(mesh: string, resource: XdsResource, changedAt?: number): void {
    const position = this.position();
    const work = () => this.publishShared(mesh, resource, position, changedAt);
    this.enqueue(`\u0000${mesh}\u0000${resource.name}`, work, { mesh, name: resource.name }, 'publishing a shared resource failed');
  }

  /** Runs `work` after the earlier work of the same key, within the in-flight bound; retries failures. */
  private enqueue(key: string, work: () => Promise<void>, context: Record<string, string>, failure: string): void {
    const attempt = async () => {
      for (let delay = RETRY_MIN_MS; ; delay = Math.min(RETRY_MAX_MS, delay * 2)) {
        try {
          await this.slot(work);
          return;
        } catch (err) {
          // A newer publication of the key is chained behind this one: it will publish instead.
          const superseded = this.chains.get(key) !== next;
          this.logger.warn({ component: 'projector', ...context, err: (err as Error).message, retry: !superseded && !this.stopped }, failure);
          if (superseded || this.stopped) return;
          this.metrics.manifestWrites.inc({ outcome: 'retried' });
          await sleep(delay);
        }
      }
    };
    const next: Promise<void> = (this.chains.get(key) ?? Promise.resolve()).then(attempt).finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    this.chains.set(key, next);
  }

  /**
   * Publishes a deletion for every stored manifest in this share whose Dataplane does not exist:
   * a Dataplane deleted while its owner was dying has nobody else to do it (a new owner only
   * regenerates the Dataplanes that exist). A manifest written at a newer position than this
   * projector has seen is kept by the store's forward-only rule. Returns how many were deleted.
   */
  async sweepOrphans(exists: (proxyKey: string) => boolean): Promise<number> {
    let n = 0;
    for (const key of await this.manifests.proxies()) {
      if (!this.membership.owns(key) || exists(key)) continue;
      const stored = await this.manifests.read(key);
      if (!stored || stored.manifest.deleted) continue;
      this.set(key, undefined);
      n++;
    }
    return n;
  }

  /**
   * As `sweepOrphans`, for services' by-name resources: a service that disappeared while the
   * projector publishing it was dying would otherwise be served by name as it last was.
   */
  async sweepServiceOrphans(exists: (mesh: string, service: string) => boolean): Promise<number> {
    let n = 0;
    for (const { key, mesh, service } of await this.manifests.services()) {
      if (!this.membership.owns(key) || exists(mesh, service)) continue;
      const stored = await this.manifests.read(key);
      if (!stored || stored.manifest.deleted) continue;
      this.setService(mesh, service, undefined);
      n++;
    }
    return n;
  }

  /** Stops retrying failed publications (shutdown); what is in flight finishes or fails once. */
  stop(): void {
    this.stopped = true;
  }

  private async publishShared(mesh: string, r: XdsResource, position: number, changedAt?: number): Promise<void> {
    await this.content.put(r.hash, r.bytes);
    const wrote = await this.manifests.publishPointer(mesh, r.shareKey ?? r.name, r.hash, position, changedAt);
    this.metrics.manifestWrites.inc({ outcome: wrote ? 'pointer' : 'skipped' });
  }

  /** Publishes the snapshot of `key` (a proxy, or a service's key) of `mesh`: content first, then the manifest. */
  private async publish(key: string, snapshot: Snapshot | undefined, position: number, mesh = key.slice(0, key.indexOf('.'))): Promise<void> {
    if (snapshot) {
      const puts: Promise<unknown>[] = [];
      for (const byName of [...snapshot.resources.values(), ...snapshot.namedOnly.values()]) {
        for (const r of byName.values()) {
          puts.push(r.shareKey !== undefined ? this.publishShared(mesh, r, position, snapshot.changedAt) : this.content.put(r.hash, r.bytes));
        }
      }
      await Promise.all(puts);
    }
    const wrote = await this.manifests.publish(manifestOf(key, snapshot, position, this.membership.self));
    this.metrics.manifestWrites.inc({ outcome: wrote ? 'written' : 'skipped' });
  }

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => this.queue.push(r));
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
      this.queue.shift()?.();
    }
  }

  /** Resolves once everything handed over so far is published. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }
}
