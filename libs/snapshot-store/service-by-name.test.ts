import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { useFabrics } from '../testkit/fabrics.ts';
import { Waiters } from '../testkit/waiters.ts';
import { TypeUrl } from '../xds/protos.ts';
import { decodeToObject, makeResource } from '../xds/resource.ts';
import { buildSnapshot, type Snapshot } from '../xds/snapshot.ts';
import { ContentStore } from './content-store.ts';
import { manifestOf, ManifestStore } from './manifest.ts';
import { FabricSnapshotSource } from './fabric-source.ts';

/** A gateway following a service's by-name resources (proxyless clients asking by name) through the fabric. */
const logger = pino({ level: 'silent' });

const cla = (name: string, port: number) =>
  makeResource(TypeUrl.ClusterLoadAssignment, name, { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } }] }] }, name);
const listener = (name: string) => makeResource(TypeUrl.Listener, name, { name, address: { socket_address: { address: '0.0.0.0', port_value: 1 } } });
type Cla = { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[] }[] };
const port = (s: Snapshot | undefined): number | undefined => {
  const r = s?.namedOnly.get(TypeUrl.ClusterLoadAssignment)?.get('greeter');
  return r && (decodeToObject(TypeUrl.ClusterLoadAssignment, r.bytes) as Cla).endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.port_value;
};

describe.each(useFabrics())('FabricSnapshotSource.watchService on the $name fabric', (fx) => {
  it('tells the watchers of a service nothing publishes that it is absent once the demand grace has passed, then serves it when published, follows its endpoints, and keeps meshes apart', async () => {
    const id = randomUUID().slice(0, 8);
    const content = await ContentStore.open(fx.fabric, `C_${id}`);
    const manifests = await ManifestStore.open(fx.fabric, `M_${id}`, content);
    const source = new FabricSnapshotSource(fx.fabric, manifests, content, logger);
    const waiters = new Waiters(() => undefined);
    const waitUntil = (holds: () => boolean, ms: number) => waiters.waitFor(holds, ms);
    const seen: (Snapshot | undefined)[] = [];
    const other: (Snapshot | undefined)[] = [];
    const stop = source.watchService('a', 'greeter', (s) => {
      seen.push(s);
      waiters.notify();
    });
    const stopOther = source.watchService('b', 'greeter', (s) => {
      other.push(s);
      waiters.notify();
    });
    await waitUntil(() => seen.length === 1 && other.length === 1, 5000);
    expect(seen).toEqual([undefined]);

    // A projector publishes mesh a's greeter: content, the load assignment's pointer, the manifest under the service key.
    const byName = buildSnapshot([], [listener('greeter'), cla('greeter', 1001)]);
    for (const r of [listener('greeter'), cla('greeter', 1001)]) await content.put(r.hash, r.bytes);
    await manifests.publishPointer('a', 'greeter', cla('greeter', 1001).hash, 1);
    await manifests.publish(manifestOf(manifests.serviceKey('a', 'greeter'), byName, 1, 'test'));
    await waitUntil(() => port(seen[seen.length - 1]) === 1001, 5000);
    expect([...seen[seen.length - 1]!.namedOnly.get(TypeUrl.Listener)!.keys()]).toEqual(['greeter']);

    // An endpoint change moves the pointer only.
    const moved = cla('greeter', 1002);
    await content.put(moved.hash, moved.bytes);
    await manifests.publishPointer('a', 'greeter', moved.hash, 2);
    await waitUntil(() => port(seen[seen.length - 1]) === 1002, 5000);

    // The service is gone: its watchers hear so.
    await manifests.publish(manifestOf(manifests.serviceKey('a', 'greeter'), undefined, 3, 'test'));
    await waitUntil(() => seen[seen.length - 1] === undefined, 5000);
    // Mesh b's watcher never saw mesh a's service.
    expect(other).toEqual([undefined]);
    // A late watcher of an absent service is answered at once, too.
    const late: (Snapshot | undefined)[] = [];
    source.watchService('b', 'greeter', (s) => late.push(s))();
    expect(late).toEqual([undefined]);
    stop();
    stopOther();
    source.close();
  });
});
