import { ClassicLevel } from 'classic-level';
import type { StoredEvent } from './event.ts';
import { EventLogUnavailableError } from './errors.ts';
import { LocalEventLog, type LocalStorage } from './local-log.ts';

const EVENT_PREFIX = 'e!';
const VERSION_PREFIX = 'v!';
const seqKey = (seq: number): string => EVENT_PREFIX + seq.toString().padStart(16, '0');

/**
 * An embedded persistent log on LevelDB (classic-level): needs no server, survives restarts,
 * and is what `kuma-cp run` uses by default. One process owns a data directory at a time.
 *
 * Keys: `e!<seq>` -> event JSON, `v!<subject>` -> latest sequence of that resource.
 * Each group commit is one atomic, fsync'ed LevelDB batch.
 */
class LevelStorage implements LocalStorage {
  private readonly db: ClassicLevel<string, string>;

  constructor(dir: string) {
    this.db = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8', keyEncoding: 'utf8' });
  }

  async open(recentMs: number) {
    try {
      await this.db.open();
    } catch (err) {
      const cause = (err as { cause?: Error }).cause ?? err;
      throw new EventLogUnavailableError(
        `cannot open embedded store at ${this.db.location}: ${(cause as Error).message} (is another kuma-cp using it?)`,
        { cause: err },
      );
    }
    const versions = new Map<string, number>();
    for await (const [k, v] of this.db.iterator({ gte: VERSION_PREFIX, lt: VERSION_PREFIX + '\xff' })) {
      versions.set(k.slice(VERSION_PREFIX.length), Number(v));
    }
    let head = 0;
    const recent: StoredEvent[] = [];
    const cutoff = Date.now() - recentMs;
    for await (const [, v] of this.db.iterator({ gte: EVENT_PREFIX, lt: EVENT_PREFIX + '\xff', reverse: true })) {
      const e = JSON.parse(v) as StoredEvent;
      if (head === 0) head = e.seq;
      if (Date.parse(e.time) < cutoff) break;
      recent.unshift(e);
    }
    return { head, versions, recent };
  }

  async write(batch: readonly StoredEvent[], subjects: readonly string[]): Promise<void> {
    const ops: { type: 'put'; key: string; value: string }[] = [];
    batch.forEach((e, i) => {
      ops.push({ type: 'put', key: seqKey(e.seq), value: JSON.stringify(e) });
      ops.push({ type: 'put', key: VERSION_PREFIX + subjects[i], value: String(e.seq) });
    });
    await this.db.batch(ops, { sync: true });
  }

  async *readRange(from: number, to: number): AsyncIterable<StoredEvent> {
    for await (const v of this.db.values({ gte: seqKey(from), lte: seqKey(to) })) yield JSON.parse(v) as StoredEvent;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

export function openEmbeddedEventLog(dir: string): Promise<LocalEventLog> {
  return LocalEventLog.open('embedded', new LevelStorage(dir));
}
