/**
 * Condition waits for simulated proxies: `notify()` after every change re-checks each pending
 * `waitFor`, which resolves when its predicate holds, rejects when the proxy's stream failed,
 * and rejects after `timeoutMs`.
 */
export class Waiters {
  private readonly checks = new Set<() => void>();

  constructor(private readonly error: () => Error | undefined) {}

  notify(): void {
    for (const check of this.checks) check();
  }

  waitFor(holds: () => boolean, timeoutMs: number): Promise<void> {
    if (holds()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.checks.delete(check);
      };
      const timer = setTimeout(() => {
        this.checks.delete(check);
        const err = this.error();
        reject(new Error(`condition not met within ${timeoutMs} ms${err ? ` (stream error: ${err.message})` : ''}`));
      }, timeoutMs);
      const check = () => {
        if (holds()) {
          done();
          resolve();
        } else if (this.error()) {
          done();
          reject(this.error());
        }
      };
      this.checks.add(check);
    });
  }
}
