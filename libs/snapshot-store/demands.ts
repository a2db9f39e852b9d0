import type { Logger } from 'pino';
import { mirrorKv, type KvMirror } from './kv-mirror.ts';
import type { ManifestStore } from './manifest.ts';

/** One gateway's demand for a service's by-name resources, as stored (see `ManifestStore.demand`). */
export interface DemandRecord {
  /** The service's key (`ManifestStore.serviceKey`). */
  readonly serviceKey: string;
  /** The member id of the gateway that asked. */
  readonly gateway: string;
  /** The key's KV revision: a removal is conditional on it, so a demand asserted again survives. */
  readonly revision: number;
}

/**
 * Every gateway's demand keys (`_want.>` of the manifests bucket), mirrored: what the sweep of
 * dead gateways' demands looks at. A removal is bounded by the revision it saw, so a demand
 * written again since (a gateway that came back, or re-asserted what was removed) stays.
 */
export class DemandBoard {
  private readonly mirror_ = new Map<string, DemandRecord>();
  private mirror: KvMirror | undefined;

  constructor(
    private readonly manifests: ManifestStore,
    private readonly logger: Logger,
  ) {}

  /**
   * Starts the mirror (it does not wait for the current keys: the sweep only acts on what it
   * has seen for a while). `onRemoved` hears every demand that disappears, whoever removed it.
   */
  async start(onRemoved: (key: string, record: DemandRecord) => void = () => undefined): Promise<void> {
    this.mirror = await mirrorKv(
      this.manifests.kv,
      (e) => {
        const parts = this.manifests.parseDemandKey(e.key);
        if (!parts) return;
        if (e.operation === 'PUT') this.mirror_.set(e.key, { ...parts, revision: e.revision });
        else {
          const before = this.mirror_.get(e.key);
          this.mirror_.delete(e.key);
          onRemoved(e.key, before ?? { ...parts, revision: e.revision });
        }
      },
      (err) => this.logger.warn({ component: 'xds-gateway', err: err.message }, 'stopped mirroring the demands for by-name resources; dead gateways\' demands are no longer swept'),
      { prefix: '_want.', readyMs: 0 },
    );
  }

  /** Every demand, as mirrored: demand key -> record. */
  get records(): ReadonlyMap<string, DemandRecord> {
    return this.mirror_;
  }

  /** The demand as stored now (not the mirror): the check before a removal. */
  async read(key: string): Promise<DemandRecord | undefined> {
    const parts = this.manifests.parseDemandKey(key);
    const e = parts && (await this.manifests.kv.get(key));
    return e && e.operation === 'PUT' ? { ...parts, revision: e.revision } : undefined;
  }

  /** Removes the demand only at `revision`; false when it changed (or went) meanwhile. */
  async remove(key: string, revision: number): Promise<boolean> {
    try {
      await this.manifests.kv.delete(key, { previousRevision: revision });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.mirror?.stop();
    await this.mirror?.done.catch(() => undefined);
  }
}
