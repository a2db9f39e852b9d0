import type { JsonObject } from './validation.ts';

/**
 * Metadata every stored resource carries.
 * `version` is the log sequence of the event that produced this state: it grows with
 * every change, is unique across the log, and is what optimistic concurrency compares.
 */
export interface ResourceMeta {
  readonly type: string;
  /** The owning mesh; `undefined` for global-scoped types such as Mesh. */
  readonly mesh?: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly creationTime: string;
  readonly modificationTime: string;
  readonly version: number;
}

/** A resource as the control plane stores it. Instances are immutable once stored. */
export interface Resource {
  readonly meta: ResourceMeta;
  readonly spec: Readonly<JsonObject>;
}

/** The identity of a resource: unique across all types and meshes. */
export interface ResourceKey {
  readonly type: string;
  readonly mesh?: string;
  readonly name: string;
}

export function keyString(k: ResourceKey): string {
  return `${k.type}/${k.mesh ?? ''}/${k.name}`;
}
