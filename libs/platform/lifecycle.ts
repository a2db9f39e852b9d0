import type { Logger } from 'pino';

/**
 * Ordered shutdown: components register closers as they start; `shutdown` runs them in
 * reverse order (so the API stops taking requests before the log it writes to is closed),
 * each bounded by a timeout so one stuck component cannot hang the process.
 */
export class Lifecycle {
  private readonly closers: { name: string; close: () => Promise<void> }[] = [];
  private shuttingDown: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  onShutdown(name: string, close: () => Promise<void>): void {
    this.closers.push({ name, close });
  }

  shutdown(timeoutMs = 10_000): Promise<void> {
    this.shuttingDown ??= (async () => {
      for (const { name, close } of [...this.closers].reverse()) {
        const started = Date.now();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            close(),
            new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs))),
          ]);
          this.logger.info({ component: 'lifecycle', closer: name, ms: Date.now() - started }, 'stopped');
        } catch (err) {
          this.logger.error({ component: 'lifecycle', closer: name, err }, 'failed to stop cleanly');
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return this.shuttingDown;
  }

  /** SIGTERM/SIGINT drain and exit 0; a second signal exits at once. */
  handleSignals(exit: (code: number) => void = (c) => process.exit(c)): void {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) exit(1);
      received = true;
      this.logger.info({ component: 'lifecycle', signal }, 'shutting down');
      void this.shutdown().then(() => exit(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
}
