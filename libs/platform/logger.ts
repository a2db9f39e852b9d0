import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** The process logger: JSON lines on stdout. Components log through `logger.child({ component })`. */
export function createLogger(opts: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env['KUMA_LOG_LEVEL'] ?? 'info',
      base: { pid: process.pid, ...(opts.name ? { name: opts.name } : {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (opts.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: false }),
  );
}
