/**
 * A keyed work queue, as client-go's workqueue: a key added while it waits waits once; one worker
 * takes keys in the order they were added; a key whose work fails is added again after its own
 * backoff (doubling from `retryMs` up to 30 s, reset by a success) while the others go on; nothing
 * is worked until `ready()` (informers' caches filled): `kick()` once it is.
 * (The log source keeps its own drain: it retries in order, a failed change before the later ones.)
 */
export class KeyedQueue {
  private readonly waiting = new Set<string>();
  private draining: Promise<void> | undefined;
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly work: (key: string) => Promise<void>,
    private readonly opts: { readonly retryMs?: number; readonly ready?: () => boolean; readonly failed?: (key: string, err: Error) => void } = {},
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.waiting.add(key);
    this.kick();
  }

  /** Starts the worker if there is work and it may run. */
  kick(): void {
    if (this.draining || this.stopped || (this.opts.ready && !this.opts.ready())) return;
    if (this.waiting.size === 0) return;
    this.draining = (async () => {
      await new Promise((r) => setImmediate(r));
      while (this.waiting.size > 0 && !this.stopped) {
        const key = this.waiting.values().next().value!;
        this.waiting.delete(key);
        try {
          await this.work(key);
          this.failures.delete(key);
        } catch (err) {
          const n = this.failures.get(key) ?? 0;
          this.failures.set(key, n + 1);
          this.opts.failed?.(key, err as Error);
          if (this.stopped) continue;
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.add(key);
          }, Math.min(30_000, (this.opts.retryMs ?? 200) * 2 ** n));
          this.timers.add(t);
        }
      }
    })().finally(() => {
      this.draining = undefined;
      this.kick();
    });
  }

  /** Resolves once no key waits or is being worked (retries that are not due yet aside), or it is stopped. */
  async idle(): Promise<void> {
    while (!this.stopped && (this.waiting.size > 0 || this.draining)) await (this.draining ?? new Promise((r) => setTimeout(r, 10)));
  }

  /** Whether a failed key waits for its retry. */
  get retrying(): boolean {
    return this.timers.size > 0;
  }

  /** Stops taking keys; resolves once the key being worked is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.draining;
  }
}
