import jsonPatch from 'fast-json-patch';
import type { StoredEvent } from '../../libs/event-log/event.ts';
import { resourceOf } from '../../libs/projection/current-state.ts';
import type { ResourceTypeDescriptor } from '../../libs/resources/descriptor.ts';
import type { JsonObject } from '../../libs/resources/validation.ts';
import { encodeResource } from '../../libs/resources/wire.ts';

export interface HistoryEntry {
  readonly version: number;
  readonly time: string;
  readonly operation: 'upsert' | 'delete';
  readonly actor: StoredEvent['actor'];
  /** The resource after the change (null after a deletion), in the REST shape. */
  readonly resource: JsonObject | null;
  /** RFC 6902 JSON Patch from the previous version (timestamps left out). */
  readonly diff: readonly unknown[];
}

const comparable = (r: JsonObject | null): JsonObject => {
  if (!r) return {};
  const { creationTime: _c, modificationTime: _m, ...rest } = r;
  return rest;
};

/** RFC 6902 patch from one REST-shaped resource to another (null = absent), timestamps left out. */
export function resourceDiff(before: JsonObject | null, after: JsonObject | null): unknown[] {
  return jsonPatch.compare(comparable(before), comparable(after));
}

/** Every version of one resource, oldest first, each with who changed it and what changed. */
export function historyOf(events: readonly StoredEvent[], d: ResourceTypeDescriptor): HistoryEntry[] {
  let previous: JsonObject | null = null;
  return events.map((e) => {
    const resource = e.op === 'upsert' ? encodeResource(resourceOf(e), d) : null;
    const entry: HistoryEntry = {
      version: e.seq,
      time: e.time,
      operation: e.op,
      actor: e.actor,
      resource,
      diff: resourceDiff(previous, resource),
    };
    previous = resource;
    return entry;
  });
}
