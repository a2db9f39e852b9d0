import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { NewEvent, StoredEvent } from './event.ts';
import { VersionConflictError } from './errors.ts';
import type { EventLog } from './port.ts';

/** Opens fresh, isolated logs for the contract suite. `reopen` reopens the same storage (persistent adapters). */
export interface EventLogFixture {
  open(): Promise<{ log: EventLog; reopen?: () => Promise<EventLog> }>;
  teardown?(): Promise<void>;
}

export function upsert(name: string, over: Partial<NewEvent> = {}): NewEvent {
  return {
    id: randomUUID(),
    time: new Date().toISOString(),
    actor: { subject: 'test', source: 'system' },
    op: 'upsert',
    type: 'Dataplane',
    mesh: 'default',
    name,
    resource: { labels: {}, creationTime: '2026-01-01T00:00:00Z', modificationTime: '2026-01-01T00:00:00Z', spec: { n: name } },
    ...over,
  } as NewEvent;
}

async function collect(it: AsyncIterable<StoredEvent>): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

/** Resolves once `cond()` holds (polled every 10 ms); rejects after `timeoutMs`. */
export function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

/** The one contract every EventLog adapter must pass (see port.ts). */
export function describeEventLog(name: string, fixture: EventLogFixture): void {
  describe(`EventLog contract: ${name}`, () => {
    afterAll(async () => fixture.teardown?.());

    const withLog = (fn: (log: EventLog, reopen?: () => Promise<EventLog>) => Promise<void>) => async () => {
      const { log, reopen } = await fixture.open();
      try {
        await fn(log, reopen);
      } finally {
        await log.close();
      }
    };

    it('starts empty', withLog(async (log) => {
      expect(await log.head()).toBe(0);
      expect(await collect(log.read(1))).toEqual([]);
    }));

    it('assigns gap-free sequences from 1 and reads events back unchanged', withLog(async (log) => {
      const written = [upsert('a'), upsert('b'), { ...upsert('a'), op: 'delete' as const, resource: undefined }];
      const stored: StoredEvent[] = [];
      for (const e of written) stored.push(await log.append(e as NewEvent));
      expect(stored.map((s) => s.seq)).toEqual([1, 2, 3]);
      expect(await log.head()).toBe(3);
      const read = await collect(log.read(1));
      expect(read).toEqual(stored);
      expect(read[0]).toMatchObject({ id: written[0]!.id, type: 'Dataplane', mesh: 'default', name: 'a', op: 'upsert', actor: { subject: 'test' } });
      expect(await collect(log.read(2, 2))).toEqual([stored[1]]);
      expect(await collect(log.read(4))).toEqual([]);
    }));

    it('checks the expected version atomically with the append', withLog(async (log) => {
      const first = await log.append(upsert('a'), { expectedVersion: 0 });
      await expect(log.append(upsert('a'), { expectedVersion: 0 })).rejects.toBeInstanceOf(VersionConflictError);
      const second = await log.append(upsert('a'), { expectedVersion: first.seq });
      await expect(log.append(upsert('a'), { expectedVersion: first.seq })).rejects.toBeInstanceOf(VersionConflictError);
      // another resource has its own version
      await log.append(upsert('b'), { expectedVersion: 0 });
      // a tombstone is a version too: recreating after delete expects the delete's sequence
      const del = await log.append({ ...upsert('a'), op: 'delete' } as NewEvent, { expectedVersion: second.seq });
      await expect(log.append(upsert('a'), { expectedVersion: 0 })).rejects.toBeInstanceOf(VersionConflictError);
      await log.append(upsert('a'), { expectedVersion: del.seq });
      expect(await log.head()).toBe(5);
    }));

    it('lets exactly one of many concurrent writers with the same expected version win', withLog(async (log) => {
      const base = await log.append(upsert('hot'));
      const results = await Promise.allSettled(
        Array.from({ length: 25 }, () => log.append(upsert('hot'), { expectedVersion: base.seq })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
      expect(await log.head()).toBe(2);
    }));

    it('de-duplicates by event id', withLog(async (log) => {
      const e = upsert('a');
      const a = await log.append(e);
      const b = await log.append(e);
      expect(b.seq).toBe(a.seq);
      expect(b.id).toBe(e.id);
      expect(await log.head()).toBe(1);
    }));

    it('keeps resources whose names differ only in special characters apart', withLog(async (log) => {
      await log.append(upsert('a.b'), { expectedVersion: 0 });
      await log.append(upsert('a_b'), { expectedVersion: 0 });
      await log.append(upsert('a%2Eb'), { expectedVersion: 0 });
      await log.append(upsert('a.b', { mesh: 'other' }), { expectedVersion: 0 });
      await log.append(upsert('a.b', { type: 'Mesh', mesh: undefined }), { expectedVersion: 0 });
      expect(await log.head()).toBe(5);
    }));

    it('follows stored events, then live ones, in order and without gaps', withLog(async (log) => {
      for (let i = 0; i < 5; i++) await log.append(upsert(`s${i}`));
      const seen: number[] = [];
      const sub = log.follow(3, (e) => seen.push(e.seq));
      await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(upsert(`l${i}`))));
      await until(() => seen.length === 23);
      expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => i + 3));
      await sub.stop();
      await log.append(upsert('after-stop'));
      await new Promise((r) => setTimeout(r, 100));
      expect(seen).toHaveLength(23);
    }));

    it('follows and reads only the types asked for, stored then live, in order', withLog(async (log) => {
      const kinds = ['Mesh', 'MeshTimeout', 'Dataplane', 'MeshRetry', 'GlobalSecret'];
      const write = (i: number) => {
        const type = kinds[i % kinds.length]!;
        const global = type === 'Mesh' || type === 'GlobalSecret';
        return log.append(upsert(`r${i}`, { type, ...(global ? { mesh: undefined } : {}) } as Partial<NewEvent>));
      };
      for (let i = 0; i < 10; i++) await write(i);
      const types = ['Mesh', 'Dataplane', 'GlobalSecret'];
      const seen: StoredEvent[] = [];
      const sub = log.follow(2, (e) => seen.push(e), { types });
      for (let i = 10; i < 25; i++) await write(i);
      // Events of the types asked for, from 2 on: seqs 3 (Dataplane), 5 (GlobalSecret), 6 (Mesh), ...
      const expected = Array.from({ length: 25 }, (_, i) => ({ seq: i + 1, type: kinds[i % kinds.length]! })).filter((e) => e.seq >= 2 && types.includes(e.type));
      await until(() => seen.length === expected.length);
      expect(seen.map((e) => ({ seq: e.seq, type: e.type }))).toEqual(expected);
      await sub.stop();
      expect((await collect(log.read(1, undefined, { types: ['MeshRetry'] }))).map((e) => e.seq)).toEqual([4, 9, 14, 19, 24]);
      expect((await collect(log.read(1, 12, { types: ['MeshRetry', 'Mesh'] }))).map((e) => e.seq)).toEqual([1, 4, 6, 9, 11]);
      expect(await collect(log.read(1, undefined, { types: [] }))).toEqual([]);
    }));

    it('returns the history of one resource, deletions included, and nothing of others', withLog(async (log) => {
      const a1 = await log.append(upsert('a.b'));
      await log.append(upsert('a_b'));
      await log.append(upsert('a.b', { mesh: 'other' }));
      const a2 = await log.append(upsert('a.b'));
      const del = await log.append({ ...upsert('a.b'), op: 'delete' } as NewEvent);
      await log.append(upsert('z'));
      expect((await log.history({ type: 'Dataplane', mesh: 'default', name: 'a.b' })).map((e) => [e.seq, e.op])).toEqual([
        [a1.seq, 'upsert'],
        [a2.seq, 'upsert'],
        [del.seq, 'delete'],
      ]);
      expect(await log.history({ type: 'Dataplane', mesh: 'default', name: 'never' })).toEqual([]);
    }));

    it('reads with a filter on mesh, type and name, and ends when nothing more matches', withLog(async (log) => {
      await log.append(upsert('a'));
      await log.append(upsert('a', { mesh: 'other' }));
      await log.append(upsert('b'));
      await log.append(upsert('m1', { type: 'Mesh', mesh: undefined }));
      await log.append(upsert('c', { mesh: 'other' }));
      const names = async (f: Parameters<EventLog['read']>[2], from = 1, to?: number) =>
        (await collect(log.read(from, to, f))).map((e) => `${e.seq}:${e.mesh ?? '_'}/${e.name}`);
      expect(await names({ mesh: 'other' })).toEqual(['2:other/a', '5:other/c']);
      expect(await names({ name: 'a' })).toEqual(['1:default/a', '2:other/a']);
      expect(await names({ type: 'Mesh' })).toEqual(['4:_/m1']);
      expect(await names({ mesh: 'default', type: 'Dataplane', name: 'b' })).toEqual(['3:default/b']);
      expect(await names({ mesh: 'other' }, 3, 4)).toEqual([]);
      expect(await names({ mesh: 'nowhere' })).toEqual([]);
      expect(await names({ name: 'a' }, 2, 2)).toEqual(['2:other/a']);
      expect(await names({ name: 'b' }, 2, 2)).toEqual([]);
      expect(await log.first()).toBe(1);
    }));

    it('appends a batch with consecutive sequences, or nothing when one expected version is stale', withLog(async (log) => {
      const a = await log.append(upsert('a'));
      const batch = await log.appendAll([
        { event: upsert('a'), expectedVersion: a.seq },
        { event: upsert('b'), expectedVersion: 0 },
        { event: { ...upsert('a'), op: 'delete' } as NewEvent, expectedVersion: 2 },
      ]);
      expect(batch.map((e) => e.seq)).toEqual([2, 3, 4]);
      await expect(
        log.appendAll([
          { event: upsert('c'), expectedVersion: 0 },
          { event: upsert('b'), expectedVersion: 1 },
        ]),
      ).rejects.toBeInstanceOf(VersionConflictError);
      expect(await log.head()).toBe(4);
      expect((await collect(log.read(1))).map((e) => `${e.op}:${e.name}`)).toEqual(['upsert:a', 'upsert:a', 'upsert:b', 'delete:a']);
    }));

    it('persists events and versions across reopen when the adapter is persistent', async () => {
      const { log, reopen } = await fixture.open();
      if (!reopen) {
        await log.close();
        return;
      }
      const a = await log.append(upsert('a'));
      const dupe = upsert('b');
      await log.append(dupe);
      await log.close();
      const again = await reopen();
      try {
        expect(await again.head()).toBe(2);
        await expect(again.append(upsert('a'), { expectedVersion: 0 })).rejects.toBeInstanceOf(VersionConflictError);
        expect((await again.append(upsert('a'), { expectedVersion: a.seq })).seq).toBe(3);
        expect((await again.append(dupe)).seq).toBe(2);
        expect((await collect(again.read(1))).map((e) => e.name)).toEqual(['a', 'b', 'a']);
      } finally {
        await again.close();
      }
    });
  });
}
