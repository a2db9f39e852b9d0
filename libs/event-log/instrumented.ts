import type { NewEvent, StoredEvent } from './event.ts';
import { VersionConflictError } from './errors.ts';
import type { AppendOptions, BatchItem, EventFilter, EventLog, FollowFilter, Subscription } from './port.ts';

export type AppendOutcome = 'ok' | 'conflict' | 'error';

/** Decorates an EventLog so every append reports its latency and outcome. */
export class InstrumentedEventLog implements EventLog {
  constructor(
    private readonly inner: EventLog,
    private readonly observe: (outcome: AppendOutcome, seconds: number) => void,
  ) {}

  get kind(): string {
    return this.inner.kind;
  }

  append(event: NewEvent, options?: AppendOptions): Promise<StoredEvent> {
    return this.timed(() => this.inner.append(event, options));
  }

  appendAll(items: readonly BatchItem[]): Promise<StoredEvent[]> {
    return this.timed(() => this.inner.appendAll(items));
  }

  private async timed<T>(write: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    let outcome: AppendOutcome = 'error';
    try {
      const result = await write();
      outcome = 'ok';
      return result;
    } catch (err) {
      if (err instanceof VersionConflictError) outcome = 'conflict';
      throw err;
    } finally {
      this.observe(outcome, Number(process.hrtime.bigint() - start) / 1e9);
    }
  }

  read(from: number, to?: number, filter?: EventFilter): AsyncIterable<StoredEvent> {
    return this.inner.read(from, to, filter);
  }

  first(): Promise<number> {
    return this.inner.first();
  }

  follow(from: number, handler: (event: StoredEvent) => void, filter?: FollowFilter): Subscription {
    return this.inner.follow(from, handler, filter);
  }

  history(key: { type: string; mesh?: string; name: string }): Promise<StoredEvent[]> {
    return this.inner.history(key);
  }

  head(): Promise<number> {
    return this.inner.head();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
