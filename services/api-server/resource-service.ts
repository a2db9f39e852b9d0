import { randomUUID } from 'node:crypto';
import { BatchInterruptedError } from '../../libs/event-log/errors.ts';
import type { Actor } from '../../libs/event-log/event.ts';
import type { BatchItem, EventLog } from '../../libs/event-log/port.ts';
import type { LiveProjection } from '../../libs/projection/live-projection.ts';
import type { ResourceTypeDescriptor } from '../../libs/resources/descriptor.ts';
import type { Resource, ResourceKey } from '../../libs/resources/resource.ts';
import type { JsonObject } from '../../libs/resources/validation.ts';
import type { ResourceInput } from '../../libs/resources/wire.ts';
import { decideDelete, decideUpsert, type DecideContext } from './commands.ts';

/** A resource created together with a new Mesh (Kuma's EnsureDefaultMeshResources). */
export interface InitialResource {
  readonly d: ResourceTypeDescriptor;
  readonly input: ResourceInput;
}

/** What to create with a new Mesh, from its name and spec (`skipCreatingInitialPolicies`). Pure. */
export type MeshInitialResources = (mesh: string, spec: Readonly<JsonObject>) => readonly InitialResource[];

export interface ResourceServiceOptions {
  readonly zone: string;
  readonly unsafeDelete: boolean;
  /** How long a write waits for its own event to reach the projection (read-your-writes). */
  readonly readYourWritesTimeoutMs?: number;
  /** Resources created in the same batch as a new Mesh (the per-mesh default policies). */
  readonly meshInitialResources?: MeshInitialResources;
  /**
   * Resources a resource needs whenever it is written, in the same batch (a Mesh's CA Secrets, a
   * MeshIdentity's CA and MeshTrust), decided against the current state; throws ValidationError
   * when it cannot have them (a misconfigured CA).
   */
  readonly companions?: (d: ResourceTypeDescriptor, input: ResourceInput) => Promise<readonly InitialResource[]>;
  /** Resources that go when a resource is deleted, before it (what a MeshIdentity made). */
  readonly dependents?: (key: ResourceKey) => readonly ResourceKey[];
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

  /** What deleting `key` also deletes (see `dependents`), of what exists now: previews show it too. */
  dependentsOf(key: ResourceKey): ResourceKey[] {
    return (this.opts.dependents?.(key) ?? []).filter((k) => this.projection.state.get(k));
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
    const ctx = this.context(actor);
    const { command, created } = decideUpsert(this.projection.state, d, input, ctx);
    const items: BatchItem[] = [{ event: command.event, expectedVersion: ifMatch ?? command.expectedVersion }];
    // Companions go in the same batch, so a reader sees an mTLS Mesh with its CA (on a log with
    // atomic batches; otherwise the issuer answers "not ready" for a moment).
    // Decided from the resource as it will be stored (with the labels the control plane computes).
    const labels = command.event.op === 'upsert' ? command.event.resource.labels : input.labels;
    for (const extra of (await this.opts.companions?.(d, { ...input, labels })) ?? []) {
      const c = decideUpsert(this.projection.state, extra.d, extra.input, ctx).command;
      items.push({ event: c.event, expectedVersion: c.expectedVersion });
    }
    if (created && d.name === 'Mesh') {
      // Kuma creates the default policies after the Mesh; here they are one batch with it, so
      // a reader sees the Mesh and its defaults together. They are created only with a new Mesh:
      // one deleted later stays deleted.
      for (const extra of this.opts.meshInitialResources?.(input.name, input.spec) ?? []) {
        const c = decideUpsert(this.projection.state, extra.d, extra.input, ctx).command;
        items.push({ event: c.event, expectedVersion: c.expectedVersion });
      }
    }
    let last: number;
    try {
      last = items.length === 1 ? (await this.log.append(items[0]!.event, { expectedVersion: items[0]!.expectedVersion! })).seq : (await this.log.appendAll(items)).at(-1)!.seq;
    } catch (err) {
      // A log without atomic batches stored the Mesh but not every default: the Mesh exists
      // (what the client asked for); the defaults a concurrent write got in between are skipped.
      if (!(err instanceof BatchInterruptedError) || err.stored.length === 0) throw err;
      last = err.stored.at(-1)!.seq;
    }
    await this.projection.waitFor(last, this.opts.readYourWritesTimeoutMs);
    const resource = this.projection.state.get(input);
    return { created, resource: resource! };
  }

  async delete(key: ResourceKey, actor: Actor, ifMatch?: number): Promise<void> {
    const ctx = this.context(actor);
    const dependents = this.dependentsOf(key).flatMap((k) => decideDelete(this.projection.state, k, ctx, { unsafeDelete: this.opts.unsafeDelete }));
    const commands = [...dependents, ...decideDelete(this.projection.state, key, ctx, { unsafeDelete: this.opts.unsafeDelete })];
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
