import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsert } from '../event-log/contract.ts';
import { openEmbeddedEventLog } from '../event-log/embedded.ts';
import type { NewEvent } from '../event-log/event.ts';
import { JetStreamEventLog } from '../event-log/jetstream.ts';
import { openMemoryEventLog } from '../event-log/memory.ts';
import type { EventLog } from '../event-log/port.ts';
import { NatsServer } from '../testkit/nats-server.ts';
import { checkpointsToPrune, CorruptCheckpointError, decodeCheckpoint, encodeCheckpoint, MemoryCheckpointStore, type CheckpointMeta, type CheckpointStore } from './checkpoint.ts';
import { LevelCheckpointStore, NatsCheckpointStore } from './checkpoint-stores.ts';
import { Checkpointer, loadLatestCheckpoint } from './checkpointer.ts';
import { CurrentState, digestOf } from './current-state.ts';
import { LiveProjection } from './live-projection.ts';

const logger = pino({ level: 'silent' });
let nats: NatsServer;
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'kuma-cp-test-'));
  dirs.push(d);
  return d;
};
beforeAll(async () => {
  nats = await NatsServer.start();
});
afterAll(async () => {
  await nats?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function deletion(name: string, mesh: string): NewEvent {
  const { resource: _, ...rest } = upsert(name, { mesh }) as NewEvent & { resource?: unknown };
  return { ...rest, op: 'delete' } as NewEvent;
}

/** A scripted mix of creates, updates, deletes and re-creates over a few meshes. */
async function script(log: EventLog, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const name = `dp-${i % 13}`;
    const mesh = `m${i % 3}`;
    const e: NewEvent = i % 5 === 4 ? deletion(name, mesh) : upsert(name, { mesh, resource: { labels: { i: String(i) }, creationTime: 't', modificationTime: 't', spec: { i } } } as Partial<NewEvent>);
    await log.append(e);
  }
}

/** The cluster id a checkpoint must carry: the log's first event id. */
async function firstId(log: EventLog): Promise<string> {
  for await (const e of log.read(1, 1)) return e.id;
  return '';
}

const stores: [string, () => Promise<{ log: EventLog; store: CheckpointStore }>][] = [
  ['memory', async () => ({ log: await openMemoryEventLog(), store: new MemoryCheckpointStore() })],
  ['embedded', async () => ({ log: await openEmbeddedEventLog(tmp()), store: await LevelCheckpointStore.open(tmp()) })],
  [
    'nats',
    async () => {
      const id = randomUUID().slice(0, 8);
      const log = await JetStreamEventLog.open({ servers: nats.url, stream: `CP_${id}`, subjectPrefix: `cp${id}` });
      return { log, store: await NatsCheckpointStore.open(log.nc, `CP_${id}`, 1) };
    },
  ],
];

describe.each(stores)('checkpoints on %s', (_, open) => {
  it('a projection started from a checkpoint equals one started from the beginning', async () => {
    const { log, store } = await open();
    try {
      const live = new LiveProjection(log);
      await live.start();
      let cluster = '';
      const checkpointer = new Checkpointer(store, { interval: 40, keep: 2, archiveEvery: 0 }, () => cluster, logger);
      const saved: number[] = [];
      const sub = log.follow(1, (e) => {
        if (cluster === '') cluster = e.id;
        checkpointer.onApplied(live.state);
        saved.push(live.state.position);
      });
      await script(log, 130);
      await live.waitFor(130);
      await checkpointer.flush(live.state);
      await sub.stop();
      const metas = await store.list();
      expect(metas.map((m) => m.seq).at(-1)).toBe(130);
      expect(metas.length).toBeLessThanOrEqual(2); // retention: keep 2

      await script(log, 17); // events after the last checkpoint
      const restored = await loadLatestCheckpoint(store, log, logger);
      expect(restored?.meta.seq).toBe(130);
      const fromCheckpoint = new LiveProjection(log, restored!.state);
      await fromCheckpoint.start();
      const fromScratch = new LiveProjection(log);
      await fromScratch.start();
      expect(fromCheckpoint.state.position).toBe(147);
      expect(digestOf(fromCheckpoint.state.fingerprints())).toBe(digestOf(fromScratch.state.fingerprints()));
      expect(fromCheckpoint.state.snapshot()).toEqual(fromScratch.state.snapshot());
      await Promise.all([fromCheckpoint.stop(), fromScratch.stop(), live.stop()]);
    } finally {
      await log.close();
      await store.close();
    }
  });

  it('skips a corrupt checkpoint and falls back to an older one', async () => {
    const { log, store } = await open();
    try {
      await script(log, 20);
      const p = new LiveProjection(log);
      await p.start();
      await p.stop();
      const good = await encodeCheckpoint(p.state, await firstId(log));
      await store.save(good.meta, good.data);
      await script(log, 5);
      const q = new LiveProjection(log);
      await q.start();
      await q.stop();
      const newer = await encodeCheckpoint(q.state, await firstId(log));
      await store.save(newer.meta, newer.data.slice(0, newer.data.length - 20));
      const restored = await loadLatestCheckpoint(store, log, logger);
      expect(restored?.meta.seq).toBe(20);
      // a checkpoint of another log (different first event) is never used
      const foreign = await encodeCheckpoint(q.state, 'another-cluster');
      await store.delete(20);
      await store.save(foreign.meta, foreign.data);
      expect(await loadLatestCheckpoint(store, log, logger)).toBeUndefined();
    } finally {
      await log.close();
      await store.close();
    }
  });
});

describe('checkpoint codec and retention', () => {
  it('round-trips a state and refuses one that does not match its digest', async () => {
    const log = await openMemoryEventLog();
    await script(log, 30);
    const p = new LiveProjection(log);
    await p.start();
    const { meta, data } = await encodeCheckpoint(p.state, 'c');
    expect(meta).toMatchObject({ seq: 30, clusterId: 'c', resources: p.state.count() });
    const back = await decodeCheckpoint(meta, data);
    expect(back.snapshot()).toEqual(p.state.snapshot());
    await expect(decodeCheckpoint({ ...meta, digest: 'sha256:00' }, data)).rejects.toBeInstanceOf(CorruptCheckpointError);
    await expect(decodeCheckpoint(meta, Buffer.from('not gzip'))).rejects.toBeInstanceOf(CorruptCheckpointError);
    const empty = await encodeCheckpoint(new CurrentState(), 'c');
    expect((await decodeCheckpoint(empty.meta, empty.data)).count()).toBe(0);
    await p.stop();
  });

  it('keeps the newest, and one per archive bucket of the older ones', () => {
    const meta = (seq: number) => ({ seq }) as CheckpointMeta;
    const all = [10, 20, 30, 110, 120, 210, 220, 230].map(meta);
    expect(checkpointsToPrune(all, { keep: 2, archiveEvery: 100 })).toEqual([20, 30, 120]);
    expect(checkpointsToPrune(all, { keep: 3, archiveEvery: 0 })).toEqual([10, 20, 30, 110, 120]);
    expect(checkpointsToPrune([meta(5)], { keep: 1, archiveEvery: 0 })).toEqual([]);
  });
});
