import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { RegistrationRecord } from '../../libs/snapshot-store/registrations.ts';
import { ownerOf } from '../../libs/snapshot-store/membership.ts';
import { OrphanedRegistrations, type RegistrationRecords } from './orphans.ts';

/** The in-memory twin of RegistrationBoard: `stored` is the bucket, `records` the mirror. */
class MemoryRecords implements RegistrationRecords {
  readonly records = new Map<string, RegistrationRecord>();
  readonly stored = new Map<string, RegistrationRecord>();
  private revision = 0;
  claim(key: string, gateway: string): void {
    const r = { gateway, revision: ++this.revision };
    this.records.set(key, r);
    this.stored.set(key, r);
  }
  async read(key: string): Promise<RegistrationRecord | undefined> {
    return this.stored.get(key);
  }
  async remove(key: string, revision: number): Promise<boolean> {
    if (this.stored.get(key)?.revision !== revision) return false;
    this.stored.delete(key);
    this.records.delete(key);
    return true;
  }
}

const DELAY = 1000;
const live = ['gw-a', 'gw-b'];
/** Proxy keys a live gateway owns. */
const ownedAll = (gw: string) => Array.from({ length: 50 }, (_, i) => `default.dp-${i}`).filter((k) => ownerOf(k, live) === gw);
const ownedBy = (gw: string) => ownedAll(gw)[0]!;

function setup(self: string, opts: { connected?: Set<string> } = {}) {
  const regs = new MemoryRecords();
  const removed: string[] = [];
  const sweeper = new OrphanedRegistrations({
    registrations: regs,
    self,
    members: () => live,
    connected: async (k) => opts.connected?.has(k) ?? false,
    deregister: async (k) => void removed.push(k),
    delayMs: DELAY,
    logger: pino({ level: 'silent' }),
  });
  return { regs, removed, sweeper };
}

describe('OrphanedRegistrations', () => {
  it('deregisters a dead gateway\'s Dataplane once it has been orphaned for the delay, on its owner only', async () => {
    const key = ownedBy('gw-a');
    const a = setup('gw-a');
    const b = setup('gw-b');
    for (const s of [a, b]) s.regs.claim(key, 'gw-dead');
    for (const s of [a, b]) expect(await s.sweeper.sweep(0)).toBe(0);
    for (const s of [a, b]) expect(await s.sweeper.sweep(DELAY - 1)).toBe(0);
    expect(await b.sweeper.sweep(DELAY)).toBe(0);
    expect(await a.sweeper.sweep(DELAY)).toBe(1);
    expect(a.removed).toEqual([key]);
    expect(b.removed).toEqual([]);
    expect(a.regs.stored.has(key)).toBe(false);
  });

  it('keeps a Dataplane whose proxy a live gateway claimed since, or whose proxy is connected', async () => {
    const [claimed, connected] = ownedAll('gw-a') as [string, string];
    const s = setup('gw-a', { connected: new Set([connected]) });
    s.regs.claim(claimed, 'gw-dead');
    s.regs.claim(connected, 'gw-dead');
    await s.sweeper.sweep(0);
    // The proxy reconnected to gw-b, which claimed it; the mirror has not caught up yet.
    s.regs.stored.set(claimed, { gateway: 'gw-b', revision: 99 });
    expect(await s.sweeper.sweep(DELAY * 2)).toBe(0);
    expect(s.removed).toEqual([]);
    expect(s.regs.stored.get(claimed)?.gateway).toBe('gw-b');
    expect(s.regs.stored.has(connected)).toBe(true);
  });

  it('leaves the records of live gateways alone', async () => {
    const s = setup('gw-a');
    s.regs.claim(ownedBy('gw-a'), 'gw-b');
    await s.sweeper.sweep(0);
    expect(await s.sweeper.sweep(DELAY * 10)).toBe(0);
    expect(s.removed).toEqual([]);
  });
});
