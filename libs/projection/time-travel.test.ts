import { describe, expect, it } from 'vitest';
import { upsert } from '../event-log/contract.ts';
import type { NewEvent } from '../event-log/event.ts';
import { openMemoryEventLog } from '../event-log/memory.ts';
import type { EventLog } from '../event-log/port.ts';
import { encodeCheckpoint, MemoryCheckpointStore } from './checkpoint.ts';
import { UncoveredLogError, loadLatestCheckpoint } from './checkpointer.ts';
import { LiveProjection } from './live-projection.ts';
import { PointError, StateHistory } from './time-travel.ts';
import pino from 'pino';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

/** Ten events, one a second from T0, each rewriting `dp` with spec {i}. */
async function tenSeconds(): Promise<EventLog> {
  const log = await openMemoryEventLog();
  for (let i = 0; i < 10; i++) {
    await log.append(upsert('dp', { time: at(i), resource: { labels: {}, creationTime: 't', modificationTime: 't', spec: { i } } } as Partial<NewEvent>));
  }
  return log;
}

/** The same log, as if a retention limit had removed events before `first`. */
function truncated(log: EventLog, first: number): EventLog {
  return Object.assign(Object.create(log) as EventLog, {
    first: async () => first,
    read: (from: number, to?: number) => log.read(Math.max(from, first), to),
  });
}

describe('StateHistory', () => {
  it('resolves a time to the last event at or before it', async () => {
    const log = await tenSeconds();
    const p = new LiveProjection(log);
    await p.start();
    const h = new StateHistory(log, undefined, () => p.state);
    expect(await h.resolve(at(0))).toBe(1);
    expect(await h.resolve(new Date(T0 + 3500).toISOString())).toBe(4);
    expect(await h.resolve(at(9))).toBe(10);
    expect(await h.resolve(new Date().toISOString().replace(/\.\d+Z$/, 'Z'))).toBe(10);
    expect(await h.resolve('7')).toBe(7);
    expect((await h.stateAt(4)).get({ type: 'Dataplane', mesh: 'default', name: 'dp' })?.spec).toEqual({ i: 3 });
    await expect(h.resolve('11')).rejects.toThrow(/in the future: the log's head is 10/);
    await expect(h.resolve('2025-12-31T23:59:59Z')).rejects.toThrow(/before the start of the log \(its first event is at 2026-01-01T00:00:00.000Z\)/);
    await expect(h.resolve('2026-13-01T00:00:00Z')).rejects.toBeInstanceOf(PointError);
    await expect(h.resolve('-1')).rejects.toBeInstanceOf(PointError);
    await p.stop();
  });

  it('refuses points before the first retained event, and starts only from a checkpoint covering them', async () => {
    const full = await tenSeconds();
    const p = new LiveProjection(full);
    await p.start();
    const log = truncated(full, 6);
    const h = new StateHistory(log, undefined, () => p.state);
    await expect(h.resolve('5')).rejects.toThrow(/before the start of the log \(its first event is 6\)/);
    await expect(h.resolve(at(2))).rejects.toThrow(/before the start of the log/);
    expect(await h.resolve(at(6))).toBe(7);

    const logger = pino({ level: 'silent' });
    const store = new MemoryCheckpointStore();
    await expect(loadLatestCheckpoint(store, log, logger)).rejects.toBeInstanceOf(UncoveredLogError);
    const checkpoint = await encodeCheckpoint(p.state, 'cluster');
    await store.save(checkpoint.meta, checkpoint.data);
    expect((await loadLatestCheckpoint(store, log, logger))?.meta.seq).toBe(10);
    await p.stop();
  });
});
