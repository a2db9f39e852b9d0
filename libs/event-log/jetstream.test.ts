import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '../testkit/nats-server.ts';
import { describeEventLog, upsert } from './contract.ts';
import { JetStreamEventLog } from './jetstream.ts';
import type { StoredEvent } from './event.ts';

let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start();
});
afterAll(async () => nats?.stop());

function isolated() {
  const id = randomUUID().slice(0, 8);
  const opts = { servers: '', stream: `EV_${id}`, subjectPrefix: `ev${id}` };
  return { open: () => JetStreamEventLog.open({ ...opts, servers: nats.url }) };
}

describeEventLog('nats', {
  open: async () => {
    const s = isolated();
    return { log: await s.open(), reopen: s.open };
  },
});

describe('JetStream event log under a server restart', () => {
  it('loses no acknowledged append and resumes following by itself', async () => {
    const log = await isolated().open();
    const seen: StoredEvent[] = [];
    const sub = log.follow(1, (e) => seen.push(e));
    const acked: StoredEvent[] = [];
    for (let i = 0; i < 20; i++) acked.push(await log.append(upsert(`before-${i}`)));
    await nats.kill();
    // appends issued while the server is down are retried until it is back
    const during = Promise.all(Array.from({ length: 10 }, (_, i) => log.append(upsert(`during-${i}`))));
    await new Promise((r) => setTimeout(r, 500));
    await nats.restart();
    acked.push(...(await during));
    for (let i = 0; i < 10; i++) acked.push(await log.append(upsert(`after-${i}`)));
    const deadline = Date.now() + 20_000;
    while (seen.length < acked.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await log.head()).toBe(40);
    expect(new Set(acked.map((e) => e.seq)).size).toBe(40);
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    await sub.stop();
    await log.close();
  }, 60_000);

  it('resumes following when the restart lands while a pull is outstanding (regression)', async () => {
    // The client's own recovery recreated the ordered consumer but kept the old pull's count, so
    // the new consumer was asked for a few messages and then starved for 30 s or more.
    const s = isolated();
    const writer = await s.open();
    const reader = await s.open();
    const seen: number[] = [];
    const sub = reader.follow(1, (e) => seen.push(e.seq));
    const total = 2510;
    for (let i = 0; i < 2500; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => writer.append(upsert(`r-${i + j}`))));
    await nats.kill();
    await nats.restart();
    for (let i = 0; i < 10; i++) await writer.append(upsert(`after-${i}`));
    const deadline = Date.now() + 15_000;
    while (seen.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    await sub.stop();
    await reader.close();
    await writer.close();
  }, 60_000);
});
