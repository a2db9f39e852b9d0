import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../event-log/contract.ts';
import { FabricConflictError, type Fabric, type FabricEntry } from './port.ts';

/**
 * Opens the fabric under test. `peer` is a second client of the same fabric (another process's
 * view); `interrupt` makes `fabric` lose its connection and get it back (deliveries meanwhile lost).
 */
export interface FabricFixture {
  open(): Promise<{ fabric: Fabric; peer: Fabric; interrupt?: () => Promise<void>; close(): Promise<void> }>;
}

const text = (v: Uint8Array) => Buffer.from(v).toString('utf8');
const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

/** The one contract every Fabric adapter must pass (see port.ts). */
export function describeFabric(name: string, fixture: FabricFixture): void {
  describe(`Fabric contract: ${name}`, () => {
    let f: Awaited<ReturnType<FabricFixture['open']>>;
    beforeAll(async () => {
      f = await fixture.open();
    });
    afterAll(async () => f?.close());
    const fresh = () => `B_${randomUUID().slice(0, 8)}`;

    it('stores values with growing revisions, shared by every client of the bucket', async () => {
      const name = fresh();
      const a = await f.fabric.bucket(name);
      const b = await f.peer.bucket(name);
      const r1 = await a.put('x.one', 'v1');
      const r2 = await a.put('x.two', Buffer.from([0, 1, 2]));
      const r3 = await a.put('x.one', 'v2');
      expect(r1).toBeLessThan(r2);
      expect(r2).toBeLessThan(r3);
      const e = (await b.get('x.one'))!;
      expect([text(e.value), e.revision, e.operation, e.key]).toEqual(['v2', r3, 'PUT', 'x.one']);
      expect(e.created).toBeInstanceOf(Date);
      expect([...(await b.get('x.two'))!.value]).toEqual([0, 1, 2]);
      expect(await b.get('x.none')).toBeUndefined();
      expect(await b.size()).toBe(2);
    });

    it('creates only absent keys and updates and deletes only at the revision given', async () => {
      const kv = await f.fabric.bucket(fresh());
      const r1 = await kv.create('k', 'a');
      await expect(kv.create('k', 'b')).rejects.toBeInstanceOf(FabricConflictError);
      await expect(kv.update('k', 'b', r1 + 100)).rejects.toBeInstanceOf(FabricConflictError);
      const r2 = await kv.update('k', 'b', r1);
      expect(text((await kv.get('k'))!.value)).toBe('b');
      await expect(kv.delete('k', { previousRevision: r1 })).rejects.toBeInstanceOf(FabricConflictError);
      expect(text((await kv.get('k'))!.value)).toBe('b');
      await kv.delete('k', { previousRevision: r2 });
      const gone = (await kv.get('k'))!;
      expect([gone.operation, gone.value.length]).toEqual(['DEL', 0]);
      // A deleted key can be created again, or updated at its deletion's revision.
      const r3 = await kv.create('k', 'c');
      await kv.delete('k');
      await kv.update('k', 'd', (await kv.get('k'))!.revision);
      expect(r3).toBeGreaterThan(r2);
      expect(text((await kv.get('k'))!.value)).toBe('d');
    });

    it('lists live keys by whole-token prefix', async () => {
      const kv = await f.fabric.bucket(fresh());
      for (const k of ['_svc.a.b', '_svc.c.d', '_svcx.e', 'mesh.dp-1', 'mesh.dp-2']) await kv.put(k, '1');
      await kv.delete('mesh.dp-2');
      expect((await collect(kv.keys('_svc.'))).sort()).toEqual(['_svc.a.b', '_svc.c.d']);
      expect((await collect(kv.keys())).sort()).toEqual(['_svc.a.b', '_svc.c.d', '_svcx.e', 'mesh.dp-1']);
    });

    it('purges a key up to a revision, and a newer write survives', async () => {
      const kv = await f.fabric.bucket(fresh());
      const r1 = await kv.put('c.1', 'x');
      expect(await kv.purge('c.1', r1)).toBe(true);
      expect(await kv.get('c.1')).toBeUndefined();
      const r2 = await kv.put('c.2', 'old');
      await kv.put('c.2', 'new');
      expect(await kv.purge('c.2', r2)).toBe(false);
      expect(text((await kv.get('c.2'))!.value)).toBe('new');
    });

    it('watches current entries first, then every write in order, deletions included', async () => {
      const kv = await f.fabric.bucket(fresh());
      await kv.put('w.a', '1');
      await kv.put('o.b', 'x');
      await kv.put('w.c', '2');
      await kv.put('w.gone', 'x');
      await kv.delete('w.gone');
      const seen: FabricEntry[] = [];
      const w = await kv.watch((e) => seen.push(e), { prefix: 'w.' });
      await w.loaded;
      expect(seen.map((e) => e.key)).toEqual(['w.a', 'w.c']);
      await f.peer.bucket(kv.name).then((b) => b.put('w.a', '3'));
      await kv.delete('w.c');
      await kv.put('o.d', 'y');
      await until(() => seen.length >= 4);
      expect(seen.map((e) => [e.key, e.operation, text(e.value)])).toEqual([
        ['w.a', 'PUT', '1'],
        ['w.c', 'PUT', '2'],
        ['w.a', 'PUT', '3'],
        ['w.c', 'DEL', ''],
      ]);
      const revisions = seen.map((e) => e.revision);
      expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
      w.stop();
      await w.done;
      await kv.put('w.e', 'late');
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toHaveLength(4);
    });

    it('ends a watch whose handler throws, with its error', async () => {
      const kv = await f.fabric.bucket(fresh());
      await kv.put('a', '1');
      const seen: string[] = [];
      const w = await kv.watch((e) => {
        seen.push(e.key);
        if (e.key === 'b') throw new Error('cannot take b');
      });
      await w.loaded;
      await kv.put('b', '2');
      await expect(w.done).rejects.toThrow('cannot take b');
      await kv.put('c', '3');
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual(['a', 'b']);
    });

    it('says a watch of an empty bucket is loaded at once', async () => {
      const kv = await f.fabric.bucket(fresh());
      const w = await kv.watch(() => undefined);
      await w.loaded;
      w.stop();
    });

    it('delivers the writes of one key to its listeners, from any client, and stops on unsubscribe', async () => {
      const name = fresh();
      const kv = await f.fabric.bucket(name);
      const got: string[] = [];
      const sub = kv.onWrite('mesh.dp', (v) => got.push(text(v)));
      await f.fabric.flush();
      const other = await f.peer.bucket(name);
      await other.put('mesh.dp', 'a');
      await other.put('mesh.other', 'no');
      await other.put('mesh.dp', 'b');
      await other.delete('mesh.dp');
      await until(() => got.length >= 3);
      expect(got).toEqual(['a', 'b', '']);
      sub.unsubscribe();
      await other.put('mesh.dp', 'c');
      await new Promise((r) => setTimeout(r, 50));
      expect(got).toHaveLength(3);
    });

    it('delivers to key listeners a write that lost its compare-and-set too (a hint, not the stored value)', async () => {
      const kv = await f.fabric.bucket(fresh());
      const got: string[] = [];
      kv.onWrite('k', (v) => got.push(text(v)));
      await f.fabric.flush();
      const r = await kv.put('k', 'stored');
      await expect(kv.update('k', 'lost-update', r + 100)).rejects.toBeInstanceOf(FabricConflictError);
      await expect(kv.create('k', 'lost-create')).rejects.toBeInstanceOf(FabricConflictError);
      await until(() => got.length >= 3);
      expect(got).toEqual(['stored', 'lost-update', 'lost-create']);
      expect(text((await kv.get('k'))!.value)).toBe('stored');
    });

    it('scans the current entry of every key and ends', async () => {
      const kv = await f.fabric.bucket(fresh());
      await kv.put('a', 'one');
      await kv.put('b', 'two');
      await kv.put('a', 'three');
      await kv.delete('b');
      const all = await collect(kv.scan());
      expect(all.map((e) => [e.key, e.operation, text(e.value)]).sort()).toEqual([
        ['a', 'PUT', 'three'],
        ['b', 'DEL', ''],
      ]);
      const headers = await collect(kv.scan({ headersOnly: true }));
      expect(headers.map((e) => e.key).sort()).toEqual(['a', 'b']);
      expect(await collect((await f.fabric.bucket(fresh())).scan())).toEqual([]);
    });

    it('publishes messages to the subscribers of a prefix, in order', async () => {
      const prefix = `kuma.test.${randomUUID().slice(0, 8)}`;
      const got: string[] = [];
      const sub = f.peer.subscribe(prefix, (subject, data) => got.push(`${subject.slice(prefix.length + 1)}:${text(data)}`));
      await f.peer.flush();
      f.fabric.publish(`${prefix}.hb.a`);
      f.fabric.publish(`${prefix}.hb.b`, Buffer.from('x'));
      f.fabric.publish(`${prefix}x.hb.c`);
      f.fabric.publish(`${prefix}.bye.a`);
      await f.fabric.flush();
      await until(() => got.length >= 3);
      expect(got).toEqual(['hb.a:', 'hb.b:x', 'bye.a:']);
      sub.unsubscribe();
    });

    it('tells its clients when their connection came back', async () => {
      if (!f.interrupt) return;
      const name = fresh();
      const kv = await f.fabric.bucket(name);
      const got: string[] = [];
      kv.onWrite('k', (v) => got.push(text(v)));
      let reconnected = 0;
      const stop = f.fabric.onReconnect(() => reconnected++);
      await f.interrupt();
      await until(() => reconnected > 0, 30_000);
      stop();
      // Still usable afterwards (a restarted server may take a moment before it stores again).
      for (let i = 0; ; i++) {
        try {
          const peer = await f.peer.bucket(name);
          await peer.put('k', `after-${i}`);
          await until(() => got.includes(`after-${i}`), 1000);
          break;
        } catch (err) {
          if (i >= 20) throw err;
        }
      }
    }, 90_000);
  });
}
