import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Fabric, FabricBucket, FabricEntry } from '../fabric/port.ts';
import { useFabrics } from '../testkit/fabrics.ts';
import { TypeUrl } from '../xds/protos.ts';
import { makeResource, type XdsResource } from '../xds/resource.ts';
import { buildSnapshot, type Snapshot } from '../xds/snapshot.ts';
import { chunksOf, ContentCorruptError, ContentMissingError, ContentStore, sha256 } from './content-store.ts';
import { ContentGc } from './content-gc.ts';
import { manifestOf, ManifestStore, type Manifest } from './manifest.ts';
import { FabricSnapshotSource } from './fabric-source.ts';
import { StatusBoard } from './status-board.ts';

const logger = pino({ level: 'silent' });
const fabrics = useFabrics();
const str = (e: FabricEntry | undefined) => Buffer.from(e!.value).toString('utf8');

async function storesOn(fabric: Fabric, opts: { chunkSize?: number; limit?: number } = {}) {
  const id = randomUUID().slice(0, 8);
  const content = await ContentStore.open(fabric, `C_${id}`, opts);
  const manifests = await ManifestStore.open(fabric, `M_${id}`, content, opts);
  return { content, manifests };
}

const cluster = (name: string, timeoutS = 5): XdsResource =>
  makeResource(TypeUrl.Cluster, name, { name, type: 'EDS', connect_timeout: { seconds: timeoutS }, eds_cluster_config: { eds_config: { ads: {} } } });

async function publish(s: Awaited<ReturnType<typeof storesOn>>, proxy: string, snapshot: Snapshot | undefined, position: number): Promise<boolean> {
  for (const byName of snapshot ? [...snapshot.resources.values(), ...snapshot.namedOnly.values()] : []) for (const r of byName.values()) await s.content.put(r.hash, r.bytes);
  return s.manifests.publish(manifestOf(proxy, snapshot, position, 'test'));
}

function watcher(source: FabricSnapshotSource, proxy: string) {
  const seen: (Snapshot | undefined)[] = [];
  const stop = source.watch(proxy, (s) => seen.push(s));
  const next = async (n: number, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (seen.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${seen.length} snapshots within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return seen[n - 1];
  };
  const until = async (pred: (s: Snapshot | undefined) => boolean, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (!w.seen.some(pred)) {
      if (Date.now() > deadline) throw new Error(`no matching snapshot within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const w = { seen, stop, next, until };
  return w;
}

const names = (s: Snapshot | undefined) => [...(s?.resources.get(TypeUrl.Cluster)?.keys() ?? [])].sort();

describe.each(fabrics)('on the $name fabric', (fx) => {
  const stores = (opts: { chunkSize?: number; limit?: number } = {}) => storesOn(fx.fabric, opts);

  describe('content store', () => {
    it('round-trips blobs, chunking those larger than a message, and refuses missing or corrupt content', async () => {
      const { content } = await stores({ chunkSize: 1000 });
      const small = Buffer.from('small');
      const big = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
      await content.put(sha256(small), small);
      await content.put(sha256(big), big);
      const got = await content.get(sha256(small));
      expect(Buffer.from(got).equals(small)).toBe(true);
      // Its own memory, not a view that would keep the connection's read buffer alive in a cache.
      expect(got.buffer.byteLength).toBe(small.length);
      expect(Buffer.from(await content.get(sha256(big))).equals(big)).toBe(true);
      // an index of chunks under i., the chunks under k.
      const index = (await content.kv.get(`i.${sha256(big)}`))!.value;
      expect(index[0]).toBe(1);
      expect(chunksOf(index)).toHaveLength(6);
      for (const c of chunksOf(index)) expect((await content.kv.get(`k.${c}`))?.operation).toBe('PUT');
      expect(await content.kv.get(`c.${sha256(big)}`)).toBeUndefined();
      await expect(content.get('0'.repeat(64))).rejects.toBeInstanceOf(ContentMissingError);
      await content.kv.put(`c.${sha256(small)}`, Buffer.from([0, 1, 2, 3]));
      await expect(content.get(sha256(small))).rejects.toBeInstanceOf(ContentCorruptError);
    });
  });

  describe('manifest store', () => {
    it('only moves forward, and stores a manifest larger than a message by reference', async () => {
      const s = await stores({ limit: 300 });
      const snap = buildSnapshot(Array.from({ length: 20 }, (_, i) => cluster(`svc-${i}`)));
      expect(await publish(s, 'default.web-1', snap, 10)).toBe(true);
      const stored = await s.manifests.read('default.web-1');
      expect(stored?.manifest.position).toBe(10);
      expect(Object.keys(stored!.manifest.resources[TypeUrl.Cluster]!)).toHaveLength(20);
      expect(JSON.parse(str(await s.manifests.kv.get('default.web-1')))).toHaveProperty('ref'); // stored by reference

      // another writer (a second projector) with an older position cannot go back
      const other = await ManifestStore.open(fx.fabric, s.manifests.bucket, s.content);
      expect(await other.publish(manifestOf('default.web-1', buildSnapshot([cluster('old')]), 5, 'lagging'))).toBe(false);
      expect((await s.manifests.read('default.web-1'))?.manifest.position).toBe(10);
      // a newer one wins, and the first writer's next write re-reads instead of overwriting it
      expect(await other.publish(manifestOf('default.web-1', buildSnapshot([cluster('new')]), 12, 'other'))).toBe(true);
      expect(await publish(s, 'default.web-1', buildSnapshot([cluster('stale')]), 11)).toBe(false);
      expect((await s.manifests.read('default.web-1'))?.manifest.generatedBy).toBe('other');
    });
  });

  describe('fabric snapshot source (gateway side)', () => {
    it('makes a proxy wait until a projector publishes it, then follows changes, deletions and never an older manifest', async () => {
      const s = await stores();
      const stale: number[] = [];
      const source = new FabricSnapshotSource(fx.fabric, s.manifests, s.content, logger, { onStaleManifest: () => stale.push(1) });
      const w = watcher(source, 'default.web-1');
      await new Promise((r) => setTimeout(r, 200));
      expect(w.seen).toHaveLength(0); // nobody knows this proxy yet: it waits

      await publish(s, 'default.web-1', buildSnapshot([cluster('a'), cluster('b')]), 3);
      expect(names(await w.next(1))).toEqual(['a', 'b']);
      await publish(s, 'default.web-1', buildSnapshot([cluster('a'), cluster('c')]), 4);
      expect(names(await w.next(2))).toEqual(['a', 'c']);

      // an older manifest (a lagging projector's write that lost the compare-and-set) is ignored
      const older = manifestOf('default.web-1', buildSnapshot([cluster('old')]), 2, 'lagging');
      await s.manifests.kv.put('default.web-1', await s.manifests.encode(older));
      await new Promise((r) => setTimeout(r, 200));
      expect(w.seen).toHaveLength(2);
      expect(stale).toHaveLength(1);

      await publish(s, 'default.web-1', undefined, 5);
      expect(await w.next(3)).toBeUndefined();
      w.stop();
      source.close();
    });

    it('serves one content object under each name that refers to it', async () => {
      const s = await stores();
      const source = new FabricSnapshotSource(fx.fabric, s.manifests, s.content, logger);
      const body = { name: 'same', type: 'STATIC', connect_timeout: { seconds: 1 } };
      const [x, y] = [makeResource(TypeUrl.Cluster, 'x', body), makeResource(TypeUrl.Cluster, 'y', body)];
      expect(x.hash).toBe(y.hash);
      const w = watcher(source, 'default.web-1');
      await publish(s, 'default.web-1', buildSnapshot([x, y]), 1);
      const served = (await w.next(1))!.resources.get(TypeUrl.Cluster)!;
      expect([...served.entries()].map(([k, r]) => [k, r.name, r.hash])).toEqual([
        ['x', 'x', x.hash],
        ['y', 'y', x.hash],
      ]);
      w.stop();
      source.close();
    });

    it('never serves corrupt content: it counts, refetches, and serves once the content is right', async () => {
      const s = await stores();
      const outcomes: string[] = [];
      const source = new FabricSnapshotSource(fx.fabric, s.manifests, s.content, logger, { onContent: (o) => outcomes.push(o) });
      const good = cluster('svc', 7);
      await s.content.kv.put(`c.${good.hash}`, Buffer.concat([Buffer.from([0]), Buffer.from('garbage')]));
      await s.manifests.publish(manifestOf('default.web-2', buildSnapshot([good]), 1, 'test'));
      const w = watcher(source, 'default.web-2');
      await new Promise((r) => setTimeout(r, 400));
      expect(w.seen).toHaveLength(0);
      expect(outcomes).toContain('corrupt');
      await s.content.kv.put(`c.${good.hash}`, Buffer.concat([Buffer.from([0]), good.bytes]));
      const served = await w.next(1, 10_000);
      expect(Buffer.from(served!.resources.get(TypeUrl.Cluster)!.get('svc')!.bytes).equals(Buffer.from(good.bytes))).toBe(true);
      w.stop();
      source.close();
    });

    it('resolves shared load assignments through their pointer: an endpoint change moves one pointer, not the manifest', async () => {
      const s = await stores();
      const source = new FabricSnapshotSource(fx.fabric, s.manifests, s.content, logger);
      const cla = (port: number) => makeResource(TypeUrl.ClusterLoadAssignment, 'backend', { cluster_name: 'backend', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } }] }] }, 'backend');
      const port = (snap: Snapshot | undefined) => (snap?.resources.get(TypeUrl.ClusterLoadAssignment)?.get('backend')?.hash);
      const v1 = cla(1);
      await publish(s, 'default.web-4', buildSnapshot([cluster('backend'), v1]), 1);
      expect(JSON.parse(str(await s.manifests.kv.get('default.web-4'))).resources[TypeUrl.ClusterLoadAssignment]).toEqual({ backend: '@' });
      await s.content.put(v1.hash, v1.bytes);
      expect(await s.manifests.publishPointer('default', 'backend', v1.hash, 1)).toBe(true);
      expect(await s.manifests.publishPointer('default', 'backend', v1.hash, 2)).toBe(false); // unchanged: not written again
      const w = watcher(source, 'default.web-4');
      expect(port(await w.next(1))).toBe(v1.hash);
      const revision = (await s.manifests.kv.get('default.web-4'))!.revision;

      const v2 = cla(2);
      await s.content.put(v2.hash, v2.bytes);
      expect(await s.manifests.publishPointer('default', 'backend', v2.hash, 7)).toBe(true);
      await w.until((x) => port(x) === v2.hash);
      expect((await s.manifests.kv.get('default.web-4'))!.revision).toBe(revision); // the manifest was not rewritten
      // Only the load assignments changed: the clusters are the same map, so streams skip them.
      const [before, after] = [w.seen.find((x) => port(x) === v1.hash)!, w.seen.find((x) => port(x) === v2.hash)!];
      expect(after.resources.get(TypeUrl.Cluster)).toBe(before.resources.get(TypeUrl.Cluster));
      const count = w.seen.length;

      // an older pointer (a lagging projector) neither wins in the store nor at the gateway
      const other = await ManifestStore.open(fx.fabric, s.manifests.bucket, s.content);
      expect(await other.publishPointer('default', 'backend', v1.hash, 3)).toBe(false);
      expect((await s.manifests.readPointer('default', 'backend'))?.hash).toBe(v2.hash);
      // (even when an older pointer does reach the gateway, written past the compare-and-set)
      await s.manifests.kv.put(s.manifests.pointerKey('default', 'backend'), Buffer.from(JSON.stringify({ hash: v1.hash, position: 3 })));
      await new Promise((r) => setTimeout(r, 200));
      expect(w.seen).toHaveLength(count);
      expect(port(w.seen.at(-1))).toBe(v2.hash);
      w.stop();
      source.close();
    });

    it('keeps the slots of one load assignment apart: proxies configured differently follow different pointers', async () => {
      const s = await stores();
      const source = new FabricSnapshotSource(fx.fabric, s.manifests, s.content, logger);
      const cla = (port: number, slot: string) =>
        makeResource(TypeUrl.ClusterLoadAssignment, 'api', { cluster_name: 'api', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } }] }] }, slot);
      const hashOf = (snap: Snapshot | undefined) => snap?.resources.get(TypeUrl.ClusterLoadAssignment)?.get('api')?.hash;
      const [a1, b1] = [cla(1, 'api~a'), cla(2, 'api~b')];
      for (const r of [a1, b1]) await s.content.put(r.hash, r.bytes);
      await s.manifests.publishPointer('default', 'api~a', a1.hash, 1);
      await s.manifests.publishPointer('default', 'api~b', b1.hash, 1);
      await publish(s, 'default.slot-a', buildSnapshot([cluster('api'), a1]), 1);
      await publish(s, 'default.slot-b', buildSnapshot([cluster('api'), b1]), 1);
      expect(JSON.parse(str(await s.manifests.kv.get('default.slot-a'))).resources[TypeUrl.ClusterLoadAssignment]).toEqual({ api: '@api~a' });
      const [wa, wb] = [watcher(source, 'default.slot-a'), watcher(source, 'default.slot-b')];
      expect(hashOf(await wa.next(1))).toBe(a1.hash);
      expect(hashOf(await wb.next(1))).toBe(b1.hash);
      const a2 = cla(3, 'api~a');
      await s.content.put(a2.hash, a2.bytes);
      await s.manifests.publishPointer('default', 'api~a', a2.hash, 2);
      await wa.until((x) => hashOf(x) === a2.hash);
      // the resource keeps its own name, and the other slot's proxy is untouched
      expect(wa.seen.at(-1)!.resources.get(TypeUrl.ClusterLoadAssignment)!.has('api')).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      expect(wb.seen).toHaveLength(1);
      wa.stop();
      wb.stop();
      source.close();
    });

    it('serves a manifest whose shared pointer is not published yet without it, and adds it once it is', async () => {
      const s = await stores();
      const source = new FabricSnapshotSource(fx.fabric, s.manifests, s.content, logger);
      const cla = makeResource(TypeUrl.ClusterLoadAssignment, 'late', { cluster_name: 'late', endpoints: [] }, 'late');
      await publish(s, 'default.web-5', buildSnapshot([cluster('late'), cla]), 1);
      const w = watcher(source, 'default.web-5');
      const first = await w.next(1);
      expect(first?.resources.get(TypeUrl.Cluster)?.has('late')).toBe(true);
      expect(first?.resources.get(TypeUrl.ClusterLoadAssignment)?.has('late') ?? false).toBe(false);
      await s.manifests.publishPointer('default', 'late', cla.hash, 2);
      await w.until((x) => x?.resources.get(TypeUrl.ClusterLoadAssignment)?.get('late')?.hash === cla.hash);
      w.stop();
      source.close();
    });

    it('reads the manifest store through a second client: a gateway on another node sees the same', async () => {
      const s = await stores();
      await publish(s, 'default.web-3', buildSnapshot([cluster('x')]), 1);
      const kv = await (await fx.connectPeer()).bucket(s.manifests.bucket);
      expect(JSON.parse(str(await kv.get('default.web-3'))).resources[TypeUrl.Cluster]).toEqual({ x: cluster('x').hash });
    });
  });

  describe('StatusBoard', () => {
    it('writes opens, closes and NACKs within the short window, counters only at the flush interval', async () => {
      const board = await StatusBoard.open(fx.fabric, `S_${randomUUID().slice(0, 8)}`, logger, { urgentMs: 50, flushMs: 1500 });
      let acks = 0;
      board.changed('default.counters', () => ({ acks }));
      await new Promise((r) => setTimeout(r, 400));
      expect(await board.read('default.counters')).toBeUndefined();
      acks = 2; // read at flush time, not at change time
      board.changed('default.opened', () => ({ open: true }), true);
      await new Promise((r) => setTimeout(r, 400));
      expect(await board.read('default.opened')).toEqual({ open: true });
      // The urgent flush took the pending counters along.
      expect(await board.read('default.counters')).toEqual({ acks: 2 });
      acks = 3;
      board.changed('default.counters', () => ({ acks }));
      await new Promise((r) => setTimeout(r, 400));
      expect(await board.read('default.counters')).toEqual({ acks: 2 });
      await new Promise((r) => setTimeout(r, 1400));
      expect(await board.read('default.counters')).toEqual({ acks: 3 });
      await board.close();
    });

    it('holds status writes back while the gateway is pushing configuration, for at most a second', async () => {
      const bucket = `S_${randomUUID().slice(0, 8)}`;
      let pushing = true;
      const board = await StatusBoard.open(fx.fabric, bucket, logger, { urgentMs: 10, flushMs: 60_000, deferWhile: () => pushing });
      board.changed('default.a', () => ({ a: 1 }));
      const flushed = board.flush();
      await new Promise((r) => setTimeout(r, 300));
      expect(await board.read('default.a')).toBeUndefined();
      pushing = false;
      await flushed;
      expect(await board.read('default.a')).toEqual({ a: 1 });
      // pushing that never ends (a stuck proxy) delays status, but does not stop it
      pushing = true;
      board.changed('default.a', () => ({ a: 2 }));
      const started = performance.now();
      await board.flush();
      expect(performance.now() - started).toBeGreaterThanOrEqual(950);
      expect(await board.read('default.a')).toEqual({ a: 2 });
      // shutting down does not wait for pushes to settle
      board.changed('default.b', () => ({ b: 1 }));
      const closing = performance.now();
      await board.close();
      expect(performance.now() - closing).toBeLessThan(500);
      expect(await board.read('default.b')).toEqual({ b: 1 });
    });

    it('flushes thousands of proxies paced, with a bounded number of writes in flight, and loses none', async () => {
      const bucket = `S_${randomUUID().slice(0, 8)}`;
      const board = await StatusBoard.open(fx.fabric, bucket, logger, { urgentMs: 10, flushMs: 60_000, writesPerSecond: 4000 });
      for (let i = 0; i < 2000; i++) board.changed(`default.dp-${i}`, () => ({ i }));
      const started = performance.now();
      await board.flush();
      // paced: 2,000 writes at 4,000 a second take at least half a second
      expect(performance.now() - started).toBeGreaterThanOrEqual(450);
      expect(await board.read('default.dp-0')).toEqual({ i: 0 });
      expect(await board.read('default.dp-1999')).toEqual({ i: 1999 });
      expect(await (await fx.fabric.bucket(bucket)).size()).toBe(2000);
      await board.close();
    });
  });

  describe('content collection', () => {
    const manifest = (proxy: string, refs: Record<string, string>, position = 1): Manifest => ({ v: 1, proxy, position, generatedBy: 'test', resources: { [TypeUrl.Cluster]: refs }, namedOnly: {} });
    const blob = (text: string, size = 0) => {
      const bytes = Buffer.concat([Buffer.from(text), randomBytes(Math.max(0, size - text.length))]);
      return { bytes, hash: sha256(bytes) };
    };
    const has = async (s: Awaited<ReturnType<typeof storesOn>>, key: string) => (await s.content.kv.get(key))?.operation === 'PUT';

    it('removes content and tombstones nothing refers to, and keeps what manifests, pointers and chunked blobs need', async () => {
      const s = await stores({ chunkSize: 1000, limit: 2000 });
      const [a, unused, big, bigUnused, pointed, young] = [blob('a'), blob('unused'), blob('big', 4000), blob('big-unused', 4000), blob('pointed'), blob('young')];
      for (const b of [a, unused, big, bigUnused, pointed]) await s.content.put(b.hash, b.bytes);
      await s.manifests.publish(manifest('default.web-1', { a: a.hash, big: big.hash }));
      await s.manifests.publishPointer('default', 'backend', pointed.hash, 1);
      // a manifest too large for a message is itself content, referred to by the stored entry
      const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`cluster-${i}`, a.hash]));
      await s.manifests.publish(manifest('default.web-2', many));
      expect(JSON.parse(str(await s.manifests.kv.get('default.web-2')))).toHaveProperty('ref');
      await s.manifests.publish(manifestOf('default.gone', undefined, 2, 'test'));
      const bigChunks = chunksOf((await s.content.kv.get(`i.${big.hash}`))!.value);
      const unusedChunks = chunksOf((await s.content.kv.get(`i.${bigUnused.hash}`))!.value);
      await new Promise((r) => setTimeout(r, 50));

      const gc = new ContentGc(s.content, s.manifests);
      const grace = 40;
      await s.content.put(young.hash, young.bytes); // within the grace period: kept although unreferenced
      const result = await gc.sweep(grace);

      expect(result).toMatchObject({ deleted: 2 + unusedChunks.length, tombstones: 1 });
      expect(result.kept).toBeGreaterThanOrEqual(1);
      expect(await has(s, `c.${a.hash}`)).toBe(true);
      expect(await has(s, `c.${pointed.hash}`)).toBe(true);
      expect(await has(s, `i.${big.hash}`)).toBe(true);
      for (const c of bigChunks) expect(await has(s, `k.${c}`)).toBe(true);
      expect(await has(s, `c.${young.hash}`)).toBe(true);
      expect(await has(s, `c.${unused.hash}`)).toBe(false);
      expect(await has(s, `i.${bigUnused.hash}`)).toBe(false);
      for (const c of unusedChunks) expect(await has(s, `k.${c}`)).toBe(false);
      expect(await s.manifests.kv.get('default.gone')).toBeUndefined();
      // what is left still reads back whole, through a gateway too
      expect(Buffer.from(await s.content.get(big.hash)).equals(big.bytes)).toBe(true);
      expect((await s.manifests.read('default.web-2'))!.manifest.resources[TypeUrl.Cluster]!['cluster-59']).toBe(a.hash);

      // a second sweep finds nothing more to do
      await new Promise((r) => setTimeout(r, grace + 10));
      expect(await gc.sweep(grace)).toMatchObject({ deleted: 1, tombstones: 0 }); // only `young`, now old
    });

    it('never removes a revision written after the one it saw', async () => {
      const s = await stores();
      const b = blob('rewritten');
      await s.content.put(b.hash, b.bytes);
      const seen = (await s.content.kv.get(`c.${b.hash}`))!;
      await s.content.kv.put(`c.${b.hash}`, (await s.content.kv.get(`c.${b.hash}`))!.value); // a writer renews it meanwhile
      const gc = new ContentGc(s.content, s.manifests) as unknown as { purge(kv: FabricBucket, e: FabricEntry): Promise<boolean> };
      expect(await gc.purge(s.content.kv, seen)).toBe(false); // the seen revision is already replaced: nothing removed
      expect(await has(s, `c.${b.hash}`)).toBe(true); // the new one stays
      expect(Buffer.from(await s.content.get(b.hash)).equals(b.bytes)).toBe(true);
    });

    it('deletes nothing when a manifest refers to content it cannot read', async () => {
      const s = await stores({ limit: 200 });
      const orphan = blob('orphan');
      await s.content.put(orphan.hash, orphan.bytes);
      await s.manifests.kv.put('default.broken', Buffer.from(JSON.stringify({ ref: '0'.repeat(64), proxy: 'default.broken', position: 1 })));
      await new Promise((r) => setTimeout(r, 20));
      const gc = new ContentGc(s.content, s.manifests);
      await expect(gc.sweep(0)).rejects.toBeInstanceOf(ContentMissingError);
      expect(await has(s, `c.${orphan.hash}`)).toBe(true);
    });
  });
});
