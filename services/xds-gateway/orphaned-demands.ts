import type { Logger } from 'pino';
import type { DemandRecord } from '../../libs/snapshot-store/demands.ts';
import { ownerOf } from '../../libs/snapshot-store/membership.ts';
import { OrphanGrace } from './orphan-grace.ts';

/** The demand keys as the sweep needs them (DemandBoard in production). */
export interface DemandRecords {
  readonly records: ReadonlyMap<string, DemandRecord>;
  read(key: string): Promise<DemandRecord | undefined>;
  remove(key: string, revision: number): Promise<boolean>;
}

export interface DemandSweepDeps {
  readonly demands: DemandRecords;
  /** This gateway's member id (the gateway part of its demand keys). */
  readonly self: string;
  /** The live gateways' member ids (this one included). */
  members(): readonly string[];
  /** Whether a stream of this gateway follows the service of `serviceKey` now. */
  wants(serviceKey: string): boolean;
  /** How long a demand must have looked orphaned before it is removed. */
  readonly graceMs: number;
  readonly logger: Logger;
}

/**
 * Removes demands for by-name resources that nobody holds any more, so projectors stop
 * publishing services no client follows:
 * - a demand of a gateway that is not a live member (it died, even by SIGKILL, without
 *   withdrawing): removed by the one live gateway that owns the key by rendezvous hashing;
 * - a demand of this gateway that none of its streams follows (left by an earlier life under
 *   the same member id, or a withdrawal that failed while NATS was away): removed by this gateway.
 * Either only once it has looked so for the grace period (membership flaps, clients
 * reconnecting), after reading the key again, and bounded by the revision read: a demand
 * written again meanwhile (a gateway that came back under the same id) survives. A gateway
 * whose own demand disappears while it still follows the service writes it again (see
 * `FabricSnapshotSource.reassert`), so a sweep that was wrong costs one fabric write.
 */
export class OrphanedDemands {
  private readonly grace: OrphanGrace;

  constructor(private readonly deps: DemandSweepDeps) {
    this.grace = new OrphanGrace(deps.graceMs);
  }

  /** One pass; returns how many demands it removed. Passes do not overlap. */
  sweep(now = Date.now()): Promise<number> {
    return this.grace.exclusive(() => this.pass(now));
  }

  /** Whether nobody holds the demand: its gateway is gone, or it is this one's and unfollowed. */
  private orphaned(r: DemandRecord, live: ReadonlySet<string>): boolean {
    return r.gateway === this.deps.self ? !this.deps.wants(r.serviceKey) : !live.has(r.gateway);
  }

  private async pass(now: number): Promise<number> {
    const { demands, self, logger } = this.deps;
    const members = this.deps.members();
    const live = new Set(members);
    const records = demands.records;
    this.grace.prune((key) => {
      const r = records.get(key);
      return r !== undefined && this.orphaned(r, live);
    });
    let removed = 0;
    for (const [key, record] of [...records]) {
      if (!this.orphaned(record, live)) continue;
      if (!this.grace.due(key, now)) continue;
      const own = record.gateway === self;
      if (!own && ownerOf(key, members) !== self) continue;
      try {
        const current = await demands.read(key);
        if (!current || !this.orphaned(current, new Set(this.deps.members()))) {
          this.grace.forget(key);
          continue;
        }
        if (!(await demands.remove(key, current.revision))) continue;
        this.grace.forget(key);
        removed++;
        logger.info(
          { component: 'xds-gateway', service: current.serviceKey, gateway: current.gateway },
          own ? 'removed a demand for by-name resources that no stream of this gateway follows' : 'removed the demand for by-name resources of a gateway that is gone',
        );
      } catch (err) {
        logger.warn({ component: 'xds-gateway', demand: key, err: (err as Error).message }, 'could not remove an orphaned demand for by-name resources; trying again');
      }
    }
    return removed;
  }
}
