import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Fabric } from '../fabric/port.ts';
import { useFabrics } from '../testkit/fabrics.ts';
import { ContentStore } from './content-store.ts';
import { DemandBoard } from './demands.ts';
import { ManifestStore } from './manifest.ts';
import { FabricSnapshotSource } from './fabric-source.ts';

/** Demand keys for by-name resources as the sweep of dead gateways sees them, on both fabrics. */
const logger = pino({ level: 'silent' });

async function storesOn(fabric: Fabric) {
  const id = randomUUID().slice(0, 8);
  const content = await ContentStore.open(fabric, `C_${id}`);
  const manifests = await ManifestStore.open(fabric, `M_${id}`, content);
  return { content, manifests };
}

describe.each(useFabrics())('DemandBoard on the $name fabric', (fx) => {
  const stores = () => storesOn(fx.fabric);
  it('mirrors every gateway\'s demands, and removes one only at the revision it read', async () => {
    const { manifests } = await stores();
    const board = new DemandBoard(manifests, logger);
    const removed: string[] = [];
    await board.start((_k, r) => removed.push(`${r.gateway}:${r.serviceKey}`));
    const greeter = manifests.serviceKey('default', 'greeter');
    await manifests.demand(greeter, 'gw-a');
    await manifests.demand(greeter, 'gw-b');
    await expect.poll(() => board.records.size, { timeout: 5000 }).toBe(2);
    const keys = [...board.records.keys()].sort();
    expect([...board.records.values()].map((r) => [r.serviceKey, r.gateway]).sort()).toEqual([
      [greeter, 'gw-a'],
      [greeter, 'gw-b'],
    ]);
    const seen = (await board.read(keys[0]!))!;
    // The gateway asserts its demand again (a restart under the same id): the stale removal fails.
    await manifests.demand(greeter, seen.gateway);
    expect(await board.remove(keys[0]!, seen.revision)).toBe(false);
    expect(await board.read(keys[0]!)).toBeDefined();
    const now = (await board.read(keys[0]!))!;
    expect(await board.remove(keys[0]!, now.revision)).toBe(true);
    await expect.poll(() => board.records.size, { timeout: 5000 }).toBe(1);
    expect(removed).toEqual([`${seen.gateway}:${greeter}`]);
    // Keys that are not demands are not mirrored.
    expect(manifests.parseDemandKey(greeter)).toBeUndefined();
    await board.close();
  });

  it('lets a gateway write its demand again when it disappears while a stream still follows the service', async () => {
    const { content, manifests } = await stores();
    const source = new FabricSnapshotSource(fx.fabric, manifests, content, logger, {}, { demandAs: 'gw-a' });
    const board = new DemandBoard(manifests, logger);
    await board.start((_k, r) => {
      if (r.gateway === 'gw-a') source.reassert(r.serviceKey);
    });
    const greeter = manifests.serviceKey('default', 'greeter');
    const stop = source.watchService('default', 'greeter', () => undefined);
    expect(source.demands(greeter)).toBe(true);
    await expect.poll(() => board.records.size, { timeout: 5000 }).toBe(1);
    const [key, first] = [...board.records][0]!;
    // Someone (a sweep that thought gw-a dead) removes it: gw-a writes it again.
    expect(await board.remove(key, first.revision)).toBe(true);
    await expect.poll(async () => (await board.read(key))?.revision ?? 0, { timeout: 5000 }).toBeGreaterThan(first.revision);
    // Once no stream follows the service, the demand is withdrawn and stays so.
    stop();
    expect(source.demands(greeter)).toBe(false);
    await expect.poll(() => board.records.size, { timeout: 5000 }).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(await board.read(key)).toBeUndefined();
    source.close();
    await board.close();
  });
});
