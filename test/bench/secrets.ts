/**
 * Store encryption micro-benchmark: what sealing a Secret costs per append, against the same
 * event as plain JSON, in one run (interleaved repetitions, median kept).
 * 1. codec: JSON.stringify of the event, plain vs sealed (seal + stringify); and the way back.
 * 2. append: sequential appends to the memory log and to the embedded (LevelDB, fsync'ed) log,
 *    plain vs through EncryptingEventLog.
 * 3. a Dataplane append through the decorator (not confidential: passes untouched).
 * Sizes: a 32-byte secret (a password) and the 2.3 KB token signing key. BENCH_SECRETS_EVENTS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedEventLog } from '../../libs/event-log/embedded.ts';
import type { NewEvent } from '../../libs/event-log/event.ts';
import { openMemoryEventLog } from '../../libs/event-log/memory.ts';
import type { EventLog } from '../../libs/event-log/port.ts';
import { EncryptingEventLog } from '../../libs/secrets/encrypting-log.ts';
import { kekOf, Keyring } from '../../libs/secrets/keyring.ts';
import { SpecSealer } from '../../libs/secrets/sealer.ts';
import { newSigningKeySecretData } from '../../libs/tokens/signing-keys.ts';
import { median, round } from './stats.ts';

const EVENTS = Number(process.env['BENCH_SECRETS_EVENTS'] ?? 20_000);
const EMBEDDED_EVENTS = Math.max(200, Math.round(EVENTS / 10));
const REPS = 5;

const sealer = new SpecSealer(new Keyring(kekOf(randomBytes(32))), (t) => t === 'Secret');
const event = (i: number, data: string): NewEvent => ({
  id: randomUUID(),
  time: new Date().toISOString(),
  actor: { subject: 'bench', source: 'rest' },
  type: 'Secret',
  mesh: 'default',
  name: `s-${i % 100}`,
  op: 'upsert',
  resource: { labels: {}, creationTime: '2026-12-01T00:00:00Z', modificationTime: '2026-12-01T00:00:00Z', spec: { data } },
});

const usPer = (ns: bigint, n: number) => Number(ns) / 1000 / n;

function timeSync(n: number, fn: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return usPer(process.hrtime.bigint() - t0, n);
}

async function timeAppends(log: EventLog, events: readonly NewEvent[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (const e of events) await log.append(e);
  return usPer(process.hrtime.bigint() - t0, events.length);
}

async function withEmbedded<T>(fn: (log: EventLog) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-secrets-'));
  const log = await openEmbeddedEventLog(dir);
  try {
    return await fn(log);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Row {
  readonly what: string;
  readonly size: string;
  readonly plainUs: number;
  readonly sealedUs: number;
  readonly ratio: number;
}

export async function run(): Promise<unknown> {
  const sizes: [string, string][] = [
    ['32 B', randomBytes(32).toString('base64')],
    ['2.3 KB signing key', newSigningKeySecretData()],
  ];
  const rows: Row[] = [];
  const fail = (err: Error) => {
    throw err;
  };
  for (const [size, data] of sizes) {
    const events = Array.from({ length: EVENTS }, (_, i) => event(i, data));
    const sealedJson = events.map((e) => JSON.stringify(sealer.sealEvent(e)));
    const plainJson = events.map((e) => JSON.stringify(e));
    const m: Record<string, number[]> = { enc: [], encSealed: [], dec: [], decSealed: [], mem: [], memSealed: [], emb: [], embSealed: [] };
    for (let r = 0; r < REPS; r++) {
      m['enc']!.push(timeSync(EVENTS, (i) => JSON.stringify(events[i])));
      m['encSealed']!.push(timeSync(EVENTS, (i) => JSON.stringify(sealer.sealEvent(events[i]!))));
      m['dec']!.push(timeSync(EVENTS, (i) => JSON.parse(plainJson[i]!)));
      m['decSealed']!.push(timeSync(EVENTS, (i) => sealer.openEvent({ ...(JSON.parse(sealedJson[i]!) as NewEvent), seq: i + 1 })));
      m['mem']!.push(await timeAppends(await openMemoryEventLog(), events));
      m['memSealed']!.push(await timeAppends(new EncryptingEventLog(await openMemoryEventLog(), sealer, fail), events));
      const few = events.slice(0, EMBEDDED_EVENTS);
      m['emb']!.push(await withEmbedded((log) => timeAppends(log, few)));
      m['embSealed']!.push(await withEmbedded((log) => timeAppends(new EncryptingEventLog(log, sealer, fail), few)));
    }
    const row = (what: string, plain: string, sealed: string) => {
      const p = median(m[plain]!);
      const s = median(m[sealed]!);
      rows.push({ what, size, plainUs: round(p, 2), sealedUs: round(s, 2), ratio: round(s / p, 2) });
    };
    row('encode (JSON.stringify)', 'enc', 'encSealed');
    row('decode (JSON.parse)', 'dec', 'decSealed');
    row(`append, memory log (${EVENTS})`, 'mem', 'memSealed');
    row(`append, embedded log (${EMBEDDED_EVENTS}, fsync)`, 'emb', 'embSealed');
  }
  // Everything else (Dataplanes, Meshes) passes the decorator untouched: that overhead too.
  const dataplanes: NewEvent[] = Array.from({ length: EVENTS }, (_, i) => ({
    ...event(i, ''),
    type: 'Dataplane',
    op: 'upsert',
    resource: { labels: {}, creationTime: '2026-12-01T00:00:00Z', modificationTime: '2026-12-01T00:00:00Z', spec: { networking: { address: '10.0.0.1' } } },
  }));
  const dp: number[][] = [[], []];
  for (let r = 0; r < REPS; r++) {
    dp[0]!.push(await timeAppends(await openMemoryEventLog(), dataplanes));
    dp[1]!.push(await timeAppends(new EncryptingEventLog(await openMemoryEventLog(), sealer, fail), dataplanes));
  }
  rows.push({ what: `append Dataplane, memory log (${EVENTS})`, size: 'not confidential', plainUs: round(median(dp[0]!), 2), sealedUs: round(median(dp[1]!), 2), ratio: round(median(dp[1]!) / median(dp[0]!), 2) });
  console.table(rows.map((r) => ({ ...r, 'extra us': round(r.sealedUs - r.plainUs, 2) })));
  return { events: EVENTS, embeddedEvents: EMBEDDED_EVENTS, reps: REPS, rows };
}
