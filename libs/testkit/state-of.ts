import type { StoredEvent } from '../event-log/event.ts';
import { CurrentState } from '../projection/current-state.ts';

/** A state holding the resources of a testdata input, as if PUT one by one. */
export function stateOf(resources: { type: string; mesh?: string; name: string; [k: string]: unknown }[]): CurrentState {
  const state = new CurrentState();
  resources.forEach(({ type, mesh, name, spec, labels, ...rest }, i) => {
    const e = {
      seq: i + 1,
      id: `e${i}`,
      time: '2026-01-01T00:00:00Z',
      actor: { subject: 'test', source: 'rest' },
      op: 'upsert',
      type,
      ...(mesh !== undefined ? { mesh } : {}),
      name,
      resource: { labels: (labels as Record<string, string>) ?? {}, creationTime: '2026-01-01T00:00:00Z', modificationTime: '2026-01-01T00:00:00Z', spec: (spec ?? rest) as never },
    } as unknown as StoredEvent;
    state.apply(e);
  });
  return state;
}
