import { describe, expect, it } from 'vitest';
import { upsert, until } from '../event-log/contract.ts';
import type { NewEvent } from '../event-log/event.ts';
import { openMemoryEventLog } from '../event-log/memory.ts';
import { CurrentState } from './current-state.ts';
import { LiveProjection, ProjectionTimeoutError } from './live-projection.ts';

const of = (type: string, name: string) => upsert(name, { type, ...(type === 'Mesh' ? { mesh: undefined } : {}) } as Partial<NewEvent>);

describe('LiveProjection following only some types (a gateway)', () => {
  it('catches up past a head of other types, applies only its types live, and waits for its own writes', async () => {
    const log = await openMemoryEventLog();
    await log.append(of('Mesh', 'default'));
    await log.append(of('Dataplane', 'web-1'));
    for (let i = 0; i < 5; i++) await log.append(of('MeshTimeout', `t${i}`));
    const applied: number[] = [];
    const state = new CurrentState();
    state.retain(new Set(['Mesh', 'Dataplane']));
    const p = new LiveProjection(log, state, { onApplied: (e) => applied.push(e.seq) }, { types: ['Mesh', 'Dataplane'] });
    await p.start(); // the head (7) is a MeshTimeout: start must not wait for it
    expect(p.state.position).toBe(7);
    expect(applied).toEqual([1, 2]);
    await log.append(of('MeshRetry', 'r'));
    const dp = await log.append(of('Dataplane', 'web-2'));
    await p.waitFor(dp.seq);
    expect(applied).toEqual([1, 2, dp.seq]);
    expect(p.state.list('Dataplane').map((r) => r.meta.name)).toEqual(['web-1', 'web-2']);
    expect(p.lag).toBe(0);
    // A sequence of another type is never applied here: waiting for it times out, clearly.
    const other = await log.append(of('MeshRetry', 'r2'));
    await expect(p.waitFor(other.seq, 100)).rejects.toBeInstanceOf(ProjectionTimeoutError);
    await log.append(of('Mesh', 'other'));
    await until(() => p.state.get({ type: 'Mesh', name: 'other' }) !== undefined);
    await p.stop();
    await log.close();
  });
});
