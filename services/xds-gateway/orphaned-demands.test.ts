import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { DemandRecord } from '../../libs/snapshot-store/demands.ts';
import { ownerOf } from '../../libs/snapshot-store/membership.ts';
import { OrphanedDemands, type DemandRecords } from './orphaned-demands.ts';

/** The in-memory twin of DemandBoard: `stored` is the bucket, `records` the mirror. */
class MemoryDemands implements DemandRecords {
  readonly records = new Map<string, DemandRecord>();
  readonly stored = new Map<string, DemandRecord>();
  private revision = 0;
  put(key: string, gateway: string, mirror = true): void {
    const r = { serviceKey: `_svc.${key}`, gateway, revision: ++this.revision };
    this.stored.set(key, r);
    if (mirror) this.records.set(key, r);
  }
  async read(key: string): Promise<DemandRecord | undefined> {
    return this.stored.get(key);
  }
  async remove(key: string, revision: number): Promise<boolean> {
    if (this.stored.get(key)?.revision !== revision) return false;
    this.stored.delete(key);
    this.records.delete(key);
    return true;
  }
}

const GRACE = 1000;
const live = ['gw-a', 'gw-b'];
const keysOwnedBy = (gw: string) => Array.from({ length: 50 }, (_, i) => `d.s${i}`).filter((k) => ownerOf(k, live) === gw);

function setup(self: string, opts: { wants?: Set<string>; members?: () => string[] } = {}) {
  const demands = new MemoryDemands();
  const sweeper = new OrphanedDemands({
    demands,
    self,
    members: opts.members ?? (() => live),
    wants: (serviceKey) => opts.wants?.has(serviceKey) ?? false,
    graceMs: GRACE,
    logger: pino({ level: 'silent' }),
  });
  return { demands, sweeper };
}

describe('OrphanedDemands', () => {
  it('removes a dead gateway\'s demand once it has been orphaned for the grace period, on the key\'s owner only', async () => {
    const key = keysOwnedBy('gw-a')[0]!;
    const a = setup('gw-a');
    const b = setup('gw-b');
    for (const s of [a, b]) s.demands.put(key, 'gw-dead');
    for (const s of [a, b]) expect(await s.sweeper.sweep(0)).toBe(0);
    for (const s of [a, b]) expect(await s.sweeper.sweep(GRACE - 1)).toBe(0);
    expect(await b.sweeper.sweep(GRACE)).toBe(0);
    expect(b.demands.stored.has(key)).toBe(true);
    expect(await a.sweeper.sweep(GRACE)).toBe(1);
    expect(a.demands.stored.has(key)).toBe(false);
  });

  it('leaves the demands of live gateways alone, and its own while a stream follows the service', async () => {
    const [other, own] = keysOwnedBy('gw-a') as [string, string];
    const s = setup('gw-a', { wants: new Set([`_svc.${own}`]) });
    s.demands.put(other, 'gw-b');
    s.demands.put(own, 'gw-a');
    await s.sweeper.sweep(0);
    expect(await s.sweeper.sweep(GRACE * 10)).toBe(0);
    expect([...s.demands.stored.keys()].sort()).toEqual([other, own].sort());
  });

  it('removes its own demands that no stream follows (left by an earlier life under the same id), whoever owns the key', async () => {
    const key = keysOwnedBy('gw-b')[0]!;
    const s = setup('gw-a');
    s.demands.put(key, 'gw-a');
    await s.sweeper.sweep(0);
    expect(await s.sweeper.sweep(GRACE)).toBe(1);
    expect(s.demands.stored.has(key)).toBe(false);
  });

  it('keeps a demand its gateway asserted again (a restart under the same id) after the sweep looked at it', async () => {
    const key = keysOwnedBy('gw-a')[0]!;
    let members = ['gw-a'];
    const s = setup('gw-a', { members: () => members });
    s.demands.put(key, 'gw-b');
    await s.sweeper.sweep(0);
    // gw-b comes back and writes its demand again; this gateway has not heard its heartbeat yet
    // and its mirror still has the old revision: the removal, bounded by the revision, fails.
    const remove = s.demands.remove.bind(s.demands);
    s.demands.remove = async (k, revision) => {
      s.demands.put(key, 'gw-b', false);
      return remove(k, revision);
    };
    expect(await s.sweeper.sweep(GRACE)).toBe(0);
    expect(s.demands.stored.get(key)?.gateway).toBe('gw-b');
    // Once gw-b is a member again, its demand is no orphan at all.
    members = ['gw-a', 'gw-b'];
    s.demands.remove = remove;
    s.demands.records.set(key, s.demands.stored.get(key)!);
    expect(await s.sweeper.sweep(GRACE * 5)).toBe(0);
    expect(s.demands.stored.has(key)).toBe(true);
  });

  it('starts the grace period again when the gateway shows up in between', async () => {
    const key = keysOwnedBy('gw-a')[0]!;
    let members = ['gw-a', 'gw-b'];
    const s = setup('gw-a', { members: () => members });
    s.demands.put(key, 'gw-c');
    await s.sweeper.sweep(0);
    members = ['gw-a', 'gw-b', 'gw-c'];
    await s.sweeper.sweep(GRACE / 2);
    members = ['gw-a', 'gw-b'];
    await s.sweeper.sweep(GRACE);
    expect(s.demands.stored.has(key)).toBe(true);
    expect(await s.sweeper.sweep(GRACE * 2)).toBe(1);
  });
});
