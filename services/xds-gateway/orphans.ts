import type { Logger } from 'pino';
import type { RegistrationRecord } from '../../libs/snapshot-store/registrations.ts';
import { ownerOf } from '../../libs/snapshot-store/membership.ts';
import { OrphanGrace } from './orphan-grace.ts';

/** The registration records as the sweep needs them (RegistrationBoard in production). */
export interface RegistrationRecords {
  readonly records: ReadonlyMap<string, RegistrationRecord>;
  read(proxyKey: string): Promise<RegistrationRecord | undefined>;
  remove(proxyKey: string, revision: number): Promise<boolean>;
}

export interface OrphanSweepDeps {
  readonly registrations: RegistrationRecords;
  /** This gateway's member id. */
  readonly self: string;
  /** The live gateways' member ids (this one included). */
  members(): readonly string[];
  /** Whether the proxy has an open stream on a live gateway. */
  connected(proxyKey: string): Promise<boolean>;
  /** Removes the proxy's Dataplane (a no-op when it is gone; refused when it changed since it was looked at). */
  deregister(proxyKey: string): Promise<void>;
  /** Kuma's dataplaneDeregistrationDelay: how long a proxy may take to reconnect elsewhere. */
  readonly delayMs: number;
  readonly logger: Logger;
}

/**
 * Takes over the deregistration duty of gateways that died. A record whose gateway is not a
 * live member is an orphan; once it has been one for the deregistration delay, the live
 * gateway that owns its proxy by rendezvous hashing (exactly one, once membership agrees)
 * checks the stored record again (a proxy that reconnected elsewhere was claimed by that
 * gateway) and the proxy's streams, then removes the Dataplane and the record. Nothing
 * depends on the dead gateway having said anything: it works after SIGKILL.
 */
export class OrphanedRegistrations {
  private readonly grace: OrphanGrace;

  constructor(private readonly deps: OrphanSweepDeps) {
    this.grace = new OrphanGrace(deps.delayMs);
  }

  /** One pass; returns how many Dataplanes it deregistered. Passes do not overlap. */
  sweep(now = Date.now()): Promise<number> {
    return this.grace.exclusive(() => this.pass(now));
  }

  private async pass(now: number): Promise<number> {
    const { registrations, self, logger } = this.deps;
    const members = this.deps.members();
    const live = new Set(members);
    const records = registrations.records;
    this.grace.prune((key) => {
      const r = records.get(key);
      return r !== undefined && !live.has(r.gateway);
    });
    let removed = 0;
    for (const [key, record] of [...records]) {
      if (live.has(record.gateway)) continue;
      if (!this.grace.due(key, now)) continue;
      if (ownerOf(key, members) !== self) continue;
      try {
        const current = await registrations.read(key);
        if (!current || live.has(current.gateway)) {
          this.grace.forget(key);
          continue;
        }
        if (await this.deps.connected(key)) continue;
        await this.deps.deregister(key);
        await registrations.remove(key, current.revision);
        this.grace.forget(key);
        removed++;
        logger.info({ component: 'dp-lifecycle', proxy: key, gateway: current.gateway }, 'deregistered a dataplane whose gateway is gone');
      } catch (err) {
        logger.warn({ component: 'dp-lifecycle', proxy: key, err: (err as Error).message }, 'could not deregister a dataplane whose gateway is gone; trying again');
      }
    }
    return removed;
  }
}
