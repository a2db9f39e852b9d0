import type { JsonObject } from '../resources/validation.ts';

/** Where a change came from. */
export type ActorSource = 'rest' | 'kumactl' | 'kubernetes' | 'dp-registration' | 'system' | 'restore' | 'import';

/** Who made a change: recorded on every event for audit. */
export interface Actor {
  /** Authenticated user or token subject; `anonymous` or `localhost` where auth is off. */
  readonly subject: string;
  readonly source: ActorSource;
  readonly requestId?: string;
  /** Client address as the server saw it. */
  readonly address?: string;
}

/** A resource's state as carried by an event. Its version is the event's sequence. */
export interface ResourceState {
  readonly labels: Readonly<Record<string, string>>;
  readonly creationTime: string;
  readonly modificationTime: string;
  readonly spec: Readonly<JsonObject>;
}

interface EventFields {
  /** Unique id chosen by the writer; appending the same id twice stores one event (de-duplication). */
  readonly id: string;
  /** RFC 3339 time at which the writer made the change. */
  readonly time: string;
  readonly actor: Actor;
  readonly type: string;
  /** Owning mesh; absent for global-scoped types. */
  readonly mesh?: string;
  readonly name: string;
}

export type ResourceUpserted = Readonly<EventFields & { op: 'upsert'; resource: ResourceState }>;
export type ResourceDeleted = Readonly<EventFields & { op: 'delete' }>;

/** An event before the log has given it a sequence. */
export type NewEvent = ResourceUpserted | ResourceDeleted;

/** An event in the log. `seq` starts at 1, is gap-free per adapter, and is the resource's version. */
export type StoredEvent = NewEvent & { readonly seq: number };
