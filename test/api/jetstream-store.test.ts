import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../libs/testkit/eventually.ts';
import { dataplaneNames, plainDataplane } from '../../libs/testkit/dataplanes.ts';
import { http } from '../../libs/testkit/http.ts';
import { KumaCpProcess } from '../../libs/testkit/kuma-cp.ts';
import { NatsServer } from '../../libs/testkit/nats-server.ts';

let nats: NatsServer;
let a: KumaCpProcess;
let b: KumaCpProcess;

const dataplane = plainDataplane;

const names = (cp: KumaCpProcess) => dataplaneNames(cp.url);

beforeAll(async () => {
  nats = await NatsServer.start();
  const env = { KUMA_STORE_TYPE: 'nats', KUMA_STORE_NATS_URL: nats.url };
  a = await KumaCpProcess.start({ env });
  b = await KumaCpProcess.start({ env });
}, 60_000);
afterAll(async () => {
  await a?.destroy();
  await b?.destroy();
  await nats?.stop();
});

describe('kuma-cp on the JetStream store', () => {
  it('shares one log between replicas: a write to one is read from the other', async () => {
    expect((await http(a.url, 'PUT', '/meshes/default/dataplanes/from-a', dataplane('from-a'))).status).toBe(201);
    await eventually(async () => expect(await names(b)).toContain('from-a'));
    // the default Mesh was created once, by whichever replica won
    expect((await http(b.url, 'GET', '/meshes')).body.total).toBe(1);
  });

  it('loses no acknowledged write across a nats-server restart, and the API recovers by itself', async () => {
    const acked: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await http(a.url, 'PUT', `/meshes/default/dataplanes/before-${i}`, dataplane(`before-${i}`));
      expect(res.status).toBe(201);
      acked.push(`before-${i}`);
    }
    await nats.kill();
    // writes issued while NATS is down wait for it (bounded), then succeed
    const during = Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const res = await http(a.url, 'PUT', `/meshes/default/dataplanes/during-${i}`, dataplane(`during-${i}`));
        if (res.status === 201) acked.push(`during-${i}`);
        else expect(res.status).toBe(503);
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
    await nats.restart();
    await during;
    expect(acked.filter((n) => n.startsWith('during-')).length).toBeGreaterThan(0);
    await eventually(async () => {
      const res = await http(a.url, 'PUT', '/meshes/default/dataplanes/after', dataplane('after'));
      expect(res.status).toBe(201);
    });
    acked.push('after');
    for (const cp of [a, b]) {
      await eventually(async () => expect(await names(cp)).toEqual(expect.arrayContaining(acked)));
    }
    // a replica started from nothing rebuilds the same state from the log
    const before = await names(a);
    await b.stop();
    await b.restart();
    expect(await names(b)).toEqual(before);
  }, 90_000);
});
