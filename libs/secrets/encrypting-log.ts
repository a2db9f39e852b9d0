import type { NewEvent, StoredEvent } from '../event-log/event.ts';
import type { AppendOptions, BatchItem, EventFilter, EventLog, FollowFilter, Subscription } from '../event-log/port.ts';
import type { SpecSealer } from './sealer.ts';

/**
 * Decorates any EventLog so confidential specs are sealed on the way in and opened on the way
 * out: the adapter (memory, LevelDB, JetStream) only ever stores envelopes, and every reader
 * of this log sees plaintext. Conforms to the EventLog contract; in addition:
 * - `read` and `history` throw SecretDecryptionError at an event that does not open.
 * - `follow` cannot throw into its handler: at an event that does not open it stops delivering
 *   (the follower never sees a gap or garbage) and reports the error to `onUndecryptable`,
 *   whose owner must treat it as fatal.
 */
export class EncryptingEventLog implements EventLog {
  constructor(
    private readonly inner: EventLog,
    private readonly sealer: SpecSealer,
    private readonly onUndecryptable: (err: Error) => void,
  ) {}

  get kind(): string {
    return this.inner.kind;
  }

  async append(event: NewEvent, options?: AppendOptions): Promise<StoredEvent> {
    return this.plain(event, await this.inner.append(this.sealer.sealEvent(event), options));
  }

  async appendAll(items: readonly BatchItem[]): Promise<StoredEvent[]> {
    const stored = await this.inner.appendAll(items.map((i) => ({ ...i, event: this.sealer.sealEvent(i.event) })));
    return stored.map((e, i) => this.plain(items[i]!.event, e));
  }

  /** The stored event in plaintext: the one written (no decryption) unless de-duplication answered an older one. */
  private plain(written: NewEvent, stored: StoredEvent): StoredEvent {
    return stored.id === written.id && stored.time === written.time ? ({ ...written, seq: stored.seq } as StoredEvent) : this.sealer.openEvent(stored);
  }

  async *read(from: number, to?: number, filter?: EventFilter): AsyncIterable<StoredEvent> {
    for await (const e of this.inner.read(from, to, filter)) yield this.sealer.openEvent(e);
  }

  follow(from: number, handler: (event: StoredEvent) => void, filter?: FollowFilter): Subscription {
    let failed = false;
    return this.inner.follow(from, (e) => {
      if (failed) return;
      let opened: StoredEvent;
      try {
        opened = this.sealer.openEvent(e);
      } catch (err) {
        failed = true;
        this.onUndecryptable(err as Error);
        return;
      }
      handler(opened);
    }, filter);
  }

  async history(key: { readonly type: string; readonly mesh?: string; readonly name: string }): Promise<StoredEvent[]> {
    return (await this.inner.history(key)).map((e) => this.sealer.openEvent(e));
  }

  head(): Promise<number> {
    return this.inner.head();
  }

  first(): Promise<number> {
    return this.inner.first();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
