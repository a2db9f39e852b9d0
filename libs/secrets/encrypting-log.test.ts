import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEventLog, upsert } from '../event-log/contract.ts';
import { openEmbeddedEventLog } from '../event-log/embedded.ts';
import { openMemoryEventLog } from '../event-log/memory.ts';
import { EncryptingEventLog } from './encrypting-log.ts';
import { kekOf, Keyring } from './keyring.ts';
import { SecretDecryptionError, SpecSealer } from './sealer.ts';

// Every type confidential: the whole EventLog contract runs through sealing and opening.
const sealer = new SpecSealer(new Keyring(kekOf(randomBytes(32))), () => true);
const fatal = (err: Error) => {
  throw err;
};

describeEventLog('encrypting (over memory)', { open: async () => ({ log: new EncryptingEventLog(await openMemoryEventLog(), sealer, fatal) }) });

const dirs: string[] = [];
describeEventLog('encrypting (over embedded)', {
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enc-log-'));
    dirs.push(dir);
    return {
      log: new EncryptingEventLog(await openEmbeddedEventLog(dir), sealer, fatal),
      reopen: async () => new EncryptingEventLog(await openEmbeddedEventLog(dir), sealer, fatal),
    };
  },
  teardown: async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  },
});

describe('EncryptingEventLog', () => {
  it('stores envelopes only, and stops a follower at an event it cannot open', async () => {
    const inner = await openMemoryEventLog();
    const log = new EncryptingEventLog(inner, sealer, fatal);
    await log.append(upsert('a', { resource: { labels: {}, creationTime: '', modificationTime: '', spec: { data: 'c2VjcmV0' } } }));
    const raw: string[] = [];
    for await (const e of inner.read(1)) raw.push(JSON.stringify(e));
    expect(raw[0]).toContain('$sealed');
    expect(raw[0]).not.toContain('c2VjcmV0');

    // Another writer, with another key, appends: this log's followers must not see it (nor anything after).
    await new EncryptingEventLog(inner, new SpecSealer(new Keyring(kekOf(randomBytes(32))), () => true), fatal).append(upsert('b'));
    await inner.append(upsert('c'));
    const seen: string[] = [];
    const failures: Error[] = [];
    const sub = new EncryptingEventLog(inner, sealer, (err) => failures.push(err)).follow(1, (e) => seen.push(e.name));
    await expect.poll(() => failures.length).toBe(1);
    await sub.stop();
    expect(seen).toEqual(['a']);
    expect(failures[0]).toBeInstanceOf(SecretDecryptionError);
    await expect(async () => {
      for await (const e of log.read(1)) void e;
    }).rejects.toThrow(SecretDecryptionError);
  });
});
