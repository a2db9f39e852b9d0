import type { StoredEvent } from '../event-log/event.ts';
import type { EventLog, Subscription } from '../event-log/port.ts';
import { CurrentState } from './current-state.ts';

/** A projection did not reach a sequence in time (the log is slow or unreachable). */
export class ProjectionTimeoutError extends Error {
  override readonly name = 'ProjectionTimeoutError';
}

export interface ProjectionObserver {
  /** Called after each applied event. */
  onApplied?(event: StoredEvent, state: CurrentState): void;
}

/**
 * Keeps a CurrentState in step with the log: replays from the state's position, then follows
 * live. `waitFor(seq)` gives read-your-writes: a writer that appended at `seq` waits for it
 * before answering, so its next read sees its write.
 */
export class LiveProjection {
  private sub: Subscription | undefined;
  private readonly waiters = new Map<number, Set<() => void>>();
  private knownHead = 0;

  constructor(
    private readonly log: EventLog,
    readonly state: CurrentState = new CurrentState(),
    private readonly observer: ProjectionObserver = {},
    /**
     * Follow only events of `types` (the log filters them where they are stored): a gateway needs
     * Meshes, Dataplanes, secrets and identities, not policies. The state should `retain` the
     * same types. Its position then moves with those events only, past the head at start, so
     * `waitFor` a sequence of another type times out, and `lag` counts only what was waited for.
     */
    private readonly filter: { readonly types?: readonly string[] } = {},
  ) {}

  /** Resolves once the state has caught up with the log's head at the time of the call. */
  async start(): Promise<void> {
    const head = await this.log.head();
    this.knownHead = Math.max(this.knownHead, head);
    const types = this.filter.types;
    if (types === undefined) {
      this.sub = this.log.follow(this.state.position + 1, (e) => this.apply(e));
      await this.waitFor(head, Number.POSITIVE_INFINITY);
      return;
    }
    // A filtered follow cannot tell when it has passed the head (the last events may be of other
    // types): read up to it, then follow what comes after.
    for await (const e of this.log.read(this.state.position + 1, head, { types })) {
      if (this.stopped) return;
      this.apply(e);
    }
    this.state.skipTo(head);
    if (!this.stopped) this.sub = this.log.follow(head + 1, (e) => this.apply(e), { types });
  }

  /** Stopped (a stop during a filtered start's read must not leave a follow behind). */
  private stopped = false;

  private apply(e: StoredEvent): void {
    this.state.apply(e);
    if (e.seq > this.knownHead) this.knownHead = e.seq;
    this.observer.onApplied?.(e, this.state);
    if (this.waiters.size === 0) return;
    for (const [seq, fns] of this.waiters) {
      if (seq <= e.seq) {
        this.waiters.delete(seq);
        for (const fn of fns) fn();
      }
    }
  }

  /** Resolves when the state has applied `seq`; rejects with ProjectionTimeoutError after `timeoutMs`. */
  waitFor(seq: number, timeoutMs = 10_000): Promise<void> {
    if (this.state.position >= seq) return Promise.resolve();
    if (seq > this.knownHead) this.knownHead = seq;
    return new Promise((resolve, reject) => {
      let set = this.waiters.get(seq);
      if (!set) this.waiters.set(seq, (set = new Set()));
      const fns = set;
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      fns.add(done);
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          fns.delete(done);
          reject(new ProjectionTimeoutError(`projection did not reach sequence ${seq} within ${timeoutMs} ms (at ${this.state.position})`));
        }, timeoutMs);
      }
    });
  }

  /** How many events the projection is behind the newest sequence it has heard of. */
  get lag(): number {
    return Math.max(0, this.knownHead - this.state.position);
  }

  /** Refreshes the known head from the log (for the lag metric; a filtered projection does not, see the constructor). */
  async refreshHead(): Promise<void> {
    if (this.filter.types !== undefined) return;
    this.knownHead = Math.max(this.knownHead, await this.log.head());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.sub?.stop();
  }
}
