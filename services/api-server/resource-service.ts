import { randomUUID } from 'node:crypto';
import type { Actor } from '../../libs/event-log/event.ts';
import type { EventLog } from '../../libs/event-log/port.ts';
import type { LiveProjection } from '../../libs/projection/live-projection.ts';
import type { ResourceTypeDescriptor } from '../../libs/resources/descriptor.ts';
import type { Resource, ResourceKey } from '../../libs/resources/resource.ts';
import type { ResourceInput } from '../../libs/resources/wire.ts';
import { decideDelete, decideUpsert, type DecideContext } from './commands.ts';

export interface ResourceServiceOptions {
  readonly zone: string;
  readonly unsafeDelete: boolean;
  /** How long a write waits for its own event to reach the projection (read-your-writes). */
  readonly readYourWritesTimeoutMs?: number;
}

/**
 * Turns write requests into events: decide against the current state, append with the
 * version decided against (a lost race surfaces as VersionConflictError), then wait until
 * the projection has applied the write so the caller's next read sees it.
 */
export class ResourceService {
  constructor(
    private readonly log: EventLog,
    private readonly projection: LiveProjection,
    private readonly opts: ResourceServiceOptions,
  ) {}

  /** The zone this control plane runs as (Kuma's computed labels and KRIs name it). */
  get zone(): string {
    return this.opts.zone;
  }

  private context(actor: Actor): DecideContext {
    return { actor, now: new Date(), newId: randomUUID, zone: this.opts.zone };
  }

  /**
   * Creates or replaces a resource. Without `ifMatch` the write is checked against the version
   * the decision was made on; with it, against the version the client read (If-Match).
   */
  async upsert(
    d: ResourceTypeDescriptor,
    input: ResourceInput,
    actor: Actor,
    ifMatch?: number,
  ): Promise<{ created: boolean; resource: Resource }> {
    const { command, created } = decideUpsert(this.projection.state, d, input, this.context(actor));
    const stored = await this.log.append(command.event, { expectedVersion: ifMatch ?? command.expectedVersion });
    await this.projection.waitFor(stored.seq, this.opts.readYourWritesTimeoutMs);
    const resource = this.projection.state.get(input);
    return { created, resource: resource! };
  }

  async delete(key: ResourceKey, actor: Actor, ifMatch?: number): Promise<void> {
    const commands = decideDelete(this.projection.state, key, this.context(actor), { unsafeDelete: this.opts.unsafeDelete });
    let last = 0;
    for (const c of commands) {
      // Contained resources go unconditionally (a concurrent update must not keep them alive);
      // the target itself is deleted only at the version decided against.
      const isTarget = c === commands[commands.length - 1];
      last = (await this.log.append(c.event, isTarget ? { expectedVersion: ifMatch ?? c.expectedVersion } : {})).seq;
    }
    await this.projection.waitFor(last, this.opts.readYourWritesTimeoutMs);
  }
}
