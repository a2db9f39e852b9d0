import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';

export interface SupervisorOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Restarts after a failure exit (non-zero, not caused by our own signal), with backoff. */
  readonly maxRestarts: number;
  readonly logger: Logger;
  readonly name: string;
  /** After a forwarded signal, how long the child may drain before it is killed. */
  readonly drainTimeoutMs?: number;
}

/**
 * Runs a child process (Envoy, or the proxyless application) and stays with it: stdio is
 * inherited, SIGTERM/SIGINT are forwarded (and escalated to SIGKILL if the child has not exited
 * after `drainTimeoutMs`), a crash is restarted up to `maxRestarts` times, and the child's exit
 * code becomes ours (128+n for a signal, as shells report it).
 */
export function supervise(opts: SupervisorOptions): Promise<number> {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let killTimer: NodeJS.Timeout | undefined;
  const forward = (signal: NodeJS.Signals) => {
    stopping = true;
    opts.logger.info({ component: 'kuma-dp', signal, child: opts.name }, 'forwarding signal');
    child?.kill(signal);
    killTimer ??= setTimeout(() => {
      opts.logger.warn({ component: 'kuma-dp', child: opts.name, drainTimeoutMs: opts.drainTimeoutMs }, 'child did not exit in time: killing it');
      child?.kill('SIGKILL');
    }, opts.drainTimeoutMs ?? 30_000);
    killTimer.unref();
  };
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  return new Promise((resolve) => {
    const start = () => {
      const c = spawn(opts.command, [...opts.args], { stdio: 'inherit', env: opts.env ?? process.env });
      child = c;
      opts.logger.info({ component: 'kuma-dp', child: opts.name, pid: c.pid, command: opts.command }, 'started');
      c.on('error', (err) => {
        opts.logger.error({ component: 'kuma-dp', child: opts.name, err: err.message }, 'could not start');
        done(127);
      });
      c.on('exit', (code, signal) => {
        const status = code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1);
        opts.logger.info({ component: 'kuma-dp', child: opts.name, code, signal }, 'exited');
        if (!stopping && status !== 0 && restarts < opts.maxRestarts) {
          restarts++;
          const delay = Math.min(10_000, 500 * 2 ** (restarts - 1));
          opts.logger.warn({ component: 'kuma-dp', child: opts.name, restart: restarts, delayMs: delay }, 'restarting after failure');
          setTimeout(start, delay);
          return;
        }
        done(stopping && signal ? 0 : status);
      });
    };
    const done = (code: number) => {
      clearTimeout(killTimer);
      process.off('SIGTERM', forward);
      process.off('SIGINT', forward);
      resolve(code);
    };
    start();
  });
}

const SIGNALS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGABRT: 6, SIGSEGV: 11 };
const signalNumber = (s: NodeJS.Signals) => SIGNALS[s];
