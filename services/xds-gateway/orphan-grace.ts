/**
 * The bookkeeping both orphan sweeps share (registrations of dead gateways, demands nobody
 * holds): when each key was first seen orphaned, so it is acted on only once it has looked so
 * for the grace period (membership flaps, proxies reconnecting), and passes that never overlap.
 */
export class OrphanGrace {
  private readonly since = new Map<string, number>();
  private running = false;

  constructor(private readonly graceMs: number) {}

  /** Runs one pass unless one is running (then answers 0). */
  async exclusive(pass: () => Promise<number>): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      return await pass();
    } finally {
      this.running = false;
    }
  }

  /** Forgets every key `stillOrphaned` no longer says is one (gone, or held again). */
  prune(stillOrphaned: (key: string) => boolean): void {
    for (const key of this.since.keys()) if (!stillOrphaned(key)) this.since.delete(key);
  }

  /** Notes `key` as orphaned at `now`; whether it has been one for the whole grace period. */
  due(key: string, now: number): boolean {
    const first = this.since.get(key);
    if (first === undefined) this.since.set(key, now);
    return first !== undefined && now - first >= this.graceMs;
  }

  forget(key: string): void {
    this.since.delete(key);
  }
}
