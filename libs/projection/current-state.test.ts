import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../event-log/event.ts';
import { CurrentState } from './current-state.ts';

let seq = 0;
const upsert = (type: string, name: string, mesh: string | undefined = 'default'): StoredEvent =>
  ({
    seq: ++seq,
    id: `e${seq}`,
    time: `2026-12-04T00:00:${String(seq).padStart(2, '0')}Z`,
    actor: { subject: 't', source: 'system' },
    op: 'upsert',
    type,
    ...(mesh !== undefined ? { mesh } : {}),
    name,
    resource: { labels: {}, creationTime: 'c', modificationTime: 'm', spec: {} },
  }) as StoredEvent;
const remove = (type: string, name: string): StoredEvent => ({ seq: ++seq, id: `e${seq}`, time: 't', actor: { subject: 't', source: 'system' }, op: 'delete', type, mesh: 'default', name });

describe('CurrentState.retain', () => {
  it('drops the other types, tombstones included, and keeps moving the position past their events', () => {
    const s = new CurrentState();
    s.apply(upsert('Mesh', 'default', undefined));
    s.apply(upsert('Dataplane', 'web-1'));
    s.apply(upsert('MeshTimeout', 'gone'));
    s.apply(remove('MeshTimeout', 'gone'));
    s.apply(upsert('MeshTimeout', 'all'));
    s.retain(new Set(['Mesh', 'Dataplane']));
    expect(s.count()).toBe(2);
    expect(s.get({ type: 'MeshTimeout', mesh: 'default', name: 'all' })).toBeUndefined();
    expect(s.version({ type: 'MeshTimeout', mesh: 'default', name: 'gone' })).toBe(0);
    const later = upsert('MeshRetry', 'r');
    s.apply(later);
    expect(s.position).toBe(later.seq);
    expect(s.count()).toBe(2);
    const dp = upsert('Dataplane', 'web-2');
    s.apply(dp);
    expect(s.version({ type: 'Dataplane', mesh: 'default', name: 'web-2' })).toBe(dp.seq);
    expect(s.list('Dataplane').map((r) => r.meta.name)).toEqual(['web-1', 'web-2']);
  });
});
