import type { StoredEvent } from '../event-log/event.ts';
import type { Resource } from '../resources/resource.ts';

let seq = 0;

/**
 * What the projector's `onEvent` takes for one change, without a log: the stored event and the
 * resource after it (`spec` undefined: a delete). Versions and sequences grow per process.
 */
export function projectorEvent(type: string, mesh: string | undefined, name: string, spec: Record<string, unknown> | undefined): [StoredEvent, Resource | undefined] {
  const r: Resource | undefined = spec && { meta: { type, ...(mesh ? { mesh } : {}), name, labels: {}, creationTime: '', modificationTime: '', version: ++seq }, spec };
  const e = { seq, id: String(seq), time: new Date().toISOString(), actor: { subject: 't', source: 'rest' }, type, ...(mesh ? { mesh } : {}), name, op: spec ? 'upsert' : 'delete' } as unknown as StoredEvent;
  return [e, r];
}
