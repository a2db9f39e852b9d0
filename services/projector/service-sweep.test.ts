import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ContentStore } from '../../libs/snapshot-store/content-store.ts';
import { manifestOf, ManifestStore } from '../../libs/snapshot-store/manifest.ts';
import { useFabrics } from '../../libs/testkit/fabrics.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { makeResource } from '../../libs/xds/resource.ts';
import { buildSnapshot } from '../../libs/xds/snapshot.ts';
import { XdsMetrics } from '../../libs/xds/metrics.ts';
import type { Membership } from '../../libs/snapshot-store/membership.ts';
import { ManifestPublisher } from './publisher.ts';

/** Services' by-name resources stored in the fabric (in memory and on a real nats-server), and the projector's sweep of those whose service is gone. */
const logger = pino({ level: 'silent' });
const listener = (name: string) => makeResource(TypeUrl.Listener, name, { name, address: { socket_address: { address: '0.0.0.0', port_value: 1 } } });

describe.each(useFabrics())('ManifestPublisher.sweepServiceOrphans on the $name fabric', (fx) => {
  it('a projector publishes deletions for stored services of its share that no longer exist, and only those', async () => {
    const id = randomUUID().slice(0, 8);
    const content = await ContentStore.open(fx.fabric, `C_${id}`);
    const manifests = await ManifestStore.open(fx.fabric, `M_${id}`, content);
    const byName = buildSnapshot([], [listener('greeter')]);
    await content.put(listener('greeter').hash, listener('greeter').bytes);
    for (const [mesh, svc] of [['a', 'gone'], ['a', 'alive'], ['b', 'gone'], ['a', 'other-share']]) await manifests.publish(manifestOf(manifests.serviceKey(mesh!, svc!), byName, 1, 'test'));
    // a proxy's manifest is not a service
    await manifests.publish(manifestOf('a.web-1', byName, 1, 'test'));
    expect((await manifests.services()).map((s) => `${s.mesh}/${s.service}`).sort()).toEqual(['a/alive', 'a/gone', 'a/other-share', 'b/gone']);
    const share = { owns: (k: string) => k !== manifests.serviceKey('a', 'other-share'), self: 'p1' } as unknown as Membership;
    const publisher = new ManifestPublisher(content, manifests, share, () => 5, new XdsMetrics(new Registry()), logger);
    expect(await publisher.sweepServiceOrphans((mesh, svc) => svc === 'alive' || (mesh === 'b' && svc === 'x'))).toBe(2);
    await publisher.idle();
    const deleted = async (mesh: string, svc: string) => (await manifests.read(manifests.serviceKey(mesh, svc)))!.manifest.deleted === true;
    expect([await deleted('a', 'gone'), await deleted('b', 'gone'), await deleted('a', 'alive'), await deleted('a', 'other-share')]).toEqual([true, true, false, false]);
    // and, once deleted, they are not deleted again
    expect(await publisher.sweepServiceOrphans(() => false)).toBe(1);
    await publisher.idle();
  });
});
