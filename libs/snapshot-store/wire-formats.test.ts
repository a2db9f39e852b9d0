import { randomUUID } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEventJson, encodeEventProto } from '../event-log/event-codec.ts';
import type { NewEvent } from '../event-log/event.ts';
import { JetStreamEventLog } from '../event-log/jetstream.ts';
import { resourceSubject } from '../event-log/subject.ts';
import { jetstream } from '@nats-io/jetstream';
import { useNatsServer } from '../testkit/nats-per-file.ts';
import { TypeUrl } from '../xds/protos.ts';
import { makeResource } from '../xds/resource.ts';
import { ContentStore } from './content-store.ts';
import { ContentGc } from './content-gc.ts';
import { decodeManifestsValue, encodeManifest, encodeManifestRef, encodePointer } from './manifest-codec.ts';
import { ManifestStore, type Manifest } from './manifest.ts';
import { FabricSnapshotSource } from './fabric-source.ts';
import { NatsFabric } from '../fabric/nats.ts';
import { StatusBoard } from './status-board.ts';
import { decodeProxyStatus, encodeProxyStatus } from './status-codec.ts';
import { realisticEvent, realisticManifest, realisticStatus } from '../../test/bench/wire.ts';

/**
 * proto/kuma_es/v1 on the wire: every value round-trips, readers accept both the JSON written
 * so far and the proto encodings (told apart by the first byte), whichever a writer used.
 */
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('wire codecs', () => {
  it('round-trip manifests, references and pointers, and read the JSON ones written before', () => {
    const m = realisticManifest();
    const deleted: Manifest = { v: 1, proxy: 'default.gone', position: 9, generatedBy: 'p', deleted: true, resources: {}, namedOnly: {} };
    for (const x of [m, deleted, { ...m, changedAt: undefined, namedOnly: { [TypeUrl.Listener]: { 'kuma.io/grpc/inbound/10.0.0.1:8080': 'ab' } } }]) {
      const plain = JSON.parse(JSON.stringify(x)) as Manifest;
      expect(decodeManifestsValue(encodeManifest(plain))).toEqual({ kind: 'manifest', manifest: plain });
      expect(decodeManifestsValue(json(plain))).toEqual({ kind: 'manifest', manifest: plain });
    }
    const ref = { kind: 'ref', ref: 'f'.repeat(64), proxy: 'default.big', position: 3 };
    expect(decodeManifestsValue(encodeManifestRef(ref.ref, ref.proxy, ref.position))).toEqual(ref);
    expect(decodeManifestsValue(json({ ref: ref.ref, proxy: ref.proxy, position: 3 }))).toEqual(ref);
    for (const pointer of [{ hash: 'a'.repeat(64), position: 4 }, { hash: 'b'.repeat(64), position: 5, changedAt: 1_764_000_000_123 }]) {
      expect(decodeManifestsValue(encodePointer(pointer))).toEqual({ kind: 'pointer', pointer });
      expect(decodeManifestsValue(json(pointer))).toEqual({ kind: 'pointer', pointer });
    }
    for (const bytes of [encodeManifest(m), encodeManifestRef('x', 'y', 1), encodePointer({ hash: 'h', position: 1 })]) expect(bytes[0]).not.toBe(0x7b);
  });

  it('round-trip proxy status records, and keep as JSON one the proto does not describe', () => {
    const status = realisticStatus();
    const bytes = encodeProxyStatus(status);
    expect(bytes[0]).not.toBe(0x7b);
    expect(bytes.length).toBeLessThan(json(status).length);
    expect(decodeProxyStatus(bytes)).toEqual(status);
    expect(decodeProxyStatus(json(status))).toEqual(status);
    // zeros and empty strings survive proto3's defaults
    const quiet = { subscriptions: [{ id: 'i', controlPlaneInstanceId: '', connectTime: 't', status: { total: { responsesSent: 0, responsesAcknowledged: 0, responsesRejected: 0 } }, version: { kumaDp: { version: '' }, envoy: { version: '' } }, mode: 'sotw' }] };
    expect(decodeProxyStatus(encodeProxyStatus(quiet))).toEqual(quiet);
    for (const odd of [{ open: true }, { subscriptions: [{ ...quiet.subscriptions[0], extra: 1 }] }, { subscriptions: [], more: 'x' }, { subscriptions: [{ ...quiet.subscriptions[0], status: { total: { responsesSent: -1, responsesAcknowledged: 0, responsesRejected: 0 } } }] }]) {
      const b = encodeProxyStatus(odd);
      expect(b[0]).toBe(0x7b);
      expect(decodeProxyStatus(b)).toEqual(odd);
    }
  });

  it('round-trip events (upsert and delete), and read the JSON ones written before', () => {
    const upsert = realisticEvent();
    const del: NewEvent = { id: 'e2', time: '2026-12-01T10:00:01.000Z', actor: { subject: 'anonymous', source: 'kumactl' }, op: 'delete', type: 'Mesh', name: 'm1' };
    for (const e of [upsert, del]) {
      expect(encodeEventProto(e)[0]).not.toBe(0x7b);
      expect(decodeEvent(encodeEventProto(e))).toEqual(e);
      expect(decodeEvent(encodeEventJson(e))).toEqual(e);
    }
  });
});

describe('proto values in the NATS buckets', () => {
  const logger = pino({ level: 'silent' });
  const nats = useNatsServer();

  it('a gateway serves a proto manifest and follows a proto pointer; writers and the collector respect them', async () => {
    const id = randomUUID().slice(0, 8);
    const content = await ContentStore.open(new NatsFabric(nats.nc), `C_${id}`);
    const manifests = await ManifestStore.open(new NatsFabric(nats.nc), `M_${id}`, content);
    const cluster = makeResource(TypeUrl.Cluster, 'backend', { name: 'backend', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } });
    const cla = (port: number) => makeResource(TypeUrl.ClusterLoadAssignment, 'backend', { cluster_name: 'backend', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } }] }] }, 'backend');
    const [v1, v2, unused] = [cla(1), cla(2), cla(3)];
    for (const r of [cluster, v1, v2, unused]) await content.put(r.hash, r.bytes);
    const manifest: Manifest = { v: 1, proxy: 'default.web-1', position: 5, generatedBy: 'newer-projector', resources: { [TypeUrl.Cluster]: { backend: cluster.hash }, [TypeUrl.ClusterLoadAssignment]: { backend: '@' } }, namedOnly: {} };
    await manifests.kv.put('default.web-1', encodeManifest(manifest));
    await manifests.kv.put(manifests.pointerKey('default', 'backend'), encodePointer({ hash: v1.hash, position: 5 }));

    expect((await manifests.read('default.web-1'))?.manifest).toEqual(manifest);
    expect(await manifests.readPointer('default', 'backend')).toEqual({ hash: v1.hash, position: 5 });
    const source = new FabricSnapshotSource(new NatsFabric(nats.nc), manifests, content, logger);
    const seen: string[] = [];
    const stop = source.watch('default.web-1', (s) => {
      const h = s?.resources.get(TypeUrl.ClusterLoadAssignment)?.get('backend')?.hash;
      if (h) seen.push(h);
    });
    const until = async (hash: string) => {
      for (const deadline = Date.now() + 5000; !seen.includes(hash); await new Promise((r) => setTimeout(r, 20))) if (Date.now() > deadline) throw new Error(`never served ${hash}`);
    };
    await until(v1.hash);
    await manifests.kv.put(manifests.pointerKey('default', 'backend'), encodePointer({ hash: v2.hash, position: 6 }));
    await until(v2.hash);

    // A writer (here one still writing JSON) compares positions with the stored proto value.
    const older = await ManifestStore.open(new NatsFabric(nats.nc), manifests.bucket, content);
    expect(await older.publish({ ...manifest, position: 4, generatedBy: 'older' })).toBe(false);
    expect(await older.publishPointer('default', 'backend', v1.hash, 3)).toBe(false);
    expect((await manifests.read('default.web-1'))?.manifest.generatedBy).toBe('newer-projector');

    // The collector reads proto manifests and pointers: what they name stays, the rest goes.
    const result = await new ContentGc(content, manifests).sweep(0);
    expect(result.referenced).toBe(2);
    const kept = async (h: string) => (await content.kv.get(`c.${h}`))?.operation === 'PUT';
    expect([await kept(cluster.hash), await kept(v2.hash), await kept(unused.hash)]).toEqual([true, true, false]);
    stop();
    source.close();
  });

  it('the status board reads proto and JSON records, directly and in its mirror', async () => {
    const bucket = `S_${randomUUID().slice(0, 8)}`;
    const board = await StatusBoard.open(new NatsFabric(nats.nc), bucket, logger);
    await board.startMirror();
    const status = realisticStatus();
    const kv = await new Kvm(nats.nc).open(bucket);
    await kv.put('default.proto', encodeProxyStatus(status));
    await kv.put('default.json', json(status));
    expect(await board.read('default.proto')).toEqual(status);
    expect(await board.read('default.json')).toEqual(status);
    for (const deadline = Date.now() + 5000; !board.get('default.proto') || !board.get('default.json'); await new Promise((r) => setTimeout(r, 20))) {
      if (Date.now() > deadline) throw new Error('mirror did not load both records');
    }
    expect([board.get('default.proto'), board.get('default.json')]).toEqual([status, status]);
    await board.close();
  });

  it('the JetStream log reads proto events between JSON ones', async () => {
    const id = randomUUID().slice(0, 8);
    const log = await JetStreamEventLog.open({ servers: nats.server.url, stream: `EV_${id}`, subjectPrefix: `ev${id}` });
    try {
      const first = realisticEvent();
      const second: NewEvent = { ...realisticEvent(), id: 'proto-1', name: 'web-2' };
      await log.append(first);
      await jetstream(nats.nc).publish(`ev${id}.${resourceSubject(second)}`, encodeEventProto(second), { msgID: second.id });
      const third: NewEvent = { id: 'e3', time: '2026-12-01T10:00:02.000Z', actor: { subject: 'anonymous', source: 'rest' }, op: 'delete', type: 'Dataplane', mesh: 'default', name: 'web-1' };
      await log.append(third, { expectedVersion: 1 });
      const read = [];
      for await (const e of log.read(1)) read.push(e);
      expect(read).toEqual([{ ...first, seq: 1 }, { ...second, seq: 2 }, { ...third, seq: 3 }]);
    } finally {
      await log.close();
    }
  });
});
