import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ContentStore } from '../../libs/snapshot-store/content-store.ts';
import type { Manifest, ManifestStore } from '../../libs/snapshot-store/manifest.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { makeResource } from '../../libs/xds/resource.ts';
import { buildSnapshot } from '../../libs/xds/snapshot.ts';
import { XdsMetrics } from '../../libs/xds/metrics.ts';
import type { Membership } from '../../libs/snapshot-store/membership.ts';
import { ManifestPublisher } from './publisher.ts';

/** Stores that fail while "NATS is down", recording what was written once it is back. */
function flakyStores() {
  const state = { down: true, manifests: [] as Manifest[], attempts: 0 };
  const content = { put: async () => { if (state.down) throw new Error('TIMEOUT'); } } as unknown as ContentStore;
  const manifests = {
    publish: async (m: Manifest) => {
      state.attempts++;
      if (state.down) throw new Error('TIMEOUT');
      state.manifests.push(m);
      return true;
    },
  } as unknown as ManifestStore;
  return { state, content, manifests };
}

const membership = { owns: () => true, self: 'p1' } as unknown as Membership;
const snapshot = (port: number) => buildSnapshot([makeResource(TypeUrl.Cluster, 'c', { name: 'c', type: 'STATIC', connect_timeout: { seconds: port } })]);

describe('ManifestPublisher', () => {
  it('retries a publication that failed while NATS was down, and gives up on one a newer publication replaced', async () => {
    const { state, content, manifests } = flakyStores();
    const metrics = new XdsMetrics(new Registry());
    const publisher = new ManifestPublisher(content, manifests, membership, () => 7, metrics, pino({ level: 'silent' }));
    publisher.set('default.a', snapshot(1));
    await new Promise((r) => setTimeout(r, 600));
    expect(state.attempts).toBe(0); // the content puts fail before the manifest is tried
    publisher.set('default.b', snapshot(2));
    publisher.set('default.b', snapshot(3)); // replaces the one before it
    await new Promise((r) => setTimeout(r, 100)); // the first fails, sees it was replaced and gives up
    state.down = false;
    await publisher.idle();
    expect(state.manifests.map((m) => m.proxy).sort()).toEqual(['default.a', 'default.b']);
    const b = state.manifests.find((m) => m.proxy === 'default.b')!;
    expect(Object.values(b.resources[TypeUrl.Cluster]!)).toEqual([snapshot(3).resources.get(TypeUrl.Cluster)!.get('c')!.hash]);
    expect((await metrics.manifestWrites.get()).values.find((v) => v.labels.outcome === 'retried')?.value).toBeGreaterThan(0);
  });

  it('stops retrying once stopped, so shutdown does not wait on a NATS that is gone', async () => {
    const { content, manifests } = flakyStores();
    const publisher = new ManifestPublisher(content, manifests, membership, () => 1, new XdsMetrics(new Registry()), pino({ level: 'silent' }));
    publisher.set('default.a', snapshot(1));
    await new Promise((r) => setTimeout(r, 100));
    publisher.stop();
    await publisher.idle(); // resolves: the pending retry gives up
  });
});

describe('ManifestPublisher.sweepOrphans', () => {
  it('publishes deletions for stored manifests in its share whose Dataplane is gone, and only those', async () => {
    const written: Manifest[] = [];
    const stored: Record<string, { deleted?: true }> = { 'default.gone': {}, 'default.alive': {}, 'default.already': { deleted: true }, 'default.other-share': {} };
    const manifests = {
      proxies: async () => Object.keys(stored),
      read: async (key: string) => ({ manifest: stored[key], revision: 1 }),
      publish: async (m: Manifest) => (written.push(m), true),
    } as unknown as ManifestStore;
    const content = { put: async () => undefined } as unknown as ContentStore;
    const share = { owns: (k: string) => k !== 'default.other-share', self: 'p1' } as unknown as Membership;
    const publisher = new ManifestPublisher(content, manifests, share, () => 9, new XdsMetrics(new Registry()), pino({ level: 'silent' }));
    expect(await publisher.sweepOrphans((k) => k === 'default.alive')).toBe(1);
    await publisher.idle();
    expect(written.map((m) => [m.proxy, m.deleted, m.position])).toEqual([['default.gone', true, 9]]);
  });
});
