import type { StoredEvent } from './event.ts';
import { LocalEventLog, type LocalStorage } from './local-log.ts';

/** Keeps events in an array: the in-memory twin, and `KUMA_STORE_TYPE=memory`. Nothing survives a restart. */
class MemoryStorage implements LocalStorage {
  private readonly events: StoredEvent[] = [];

  async open() {
    return { head: 0, versions: new Map<string, number>(), recent: [] };
  }

  async write(batch: readonly StoredEvent[]): Promise<void> {
    this.events.push(...batch);
  }

  async *readRange(from: number, to: number): AsyncIterable<StoredEvent> {
    for (let seq = from; seq <= to; seq++) {
      const e = this.events[seq - 1];
      if (e) yield e;
    }
  }

  async close(): Promise<void> {}
}

export function openMemoryEventLog(): Promise<LocalEventLog> {
  return LocalEventLog.open('memory', new MemoryStorage());
}
