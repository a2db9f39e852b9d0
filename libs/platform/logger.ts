import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { isLogFormat, resolveLogFormat, type LogFormat } from './log-options.ts';

export type { Logger } from 'pino';

/** One text line: time, level, `[component]`, message, then the other fields as compact JSON. */
function textStream(destination: NodeJS.WritableStream | undefined, colorize: boolean): pino.DestinationStream {
  // Loaded only for text (about 100 ms): JSON, what every deployment writes, does not pay for it.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pretty({
    colorize,
    singleLine: true,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname,component,name',
    messageFormat: (log, messageKey) => {
      const msg = String(log[messageKey] ?? '');
      return typeof log['component'] === 'string' ? `[${log['component']}] ${msg}` : msg;
    },
    // Synchronous: a person watches this stream, and a fatal line must not be lost on exit.
    sync: true,
    ...(destination ? { destination } : {}),
  });
}

/**
 * The process logger. Components log through `logger.child({ component })`. JSON lines (one object
 * per line, `time` in ISO 8601) unless the format resolves to `text` (`auto` on a terminal), which
 * prints the same records for a person to read. Level and format default to `KUMA_LOG_LEVEL` and
 * `KUMA_LOG_FORMAT`, then `info` and `auto`.
 */
export function createLogger(
  opts: { level?: string; format?: LogFormat; name?: string; destination?: NodeJS.WritableStream & { isTTY?: boolean } } = {},
): Logger {
  const level = opts.level ?? process.env['KUMA_LOG_LEVEL'] ?? 'info';
  const envFormat = process.env['KUMA_LOG_FORMAT'];
  const format = opts.format ?? (envFormat && isLogFormat(envFormat) ? envFormat : 'auto');
  const isTTY = opts.destination ? opts.destination.isTTY === true : process.stdout.isTTY === true;
  const options: pino.LoggerOptions = {
    level: level === 'off' ? 'silent' : level,
    base: { pid: process.pid, ...(opts.name ? { name: opts.name } : {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (resolveLogFormat(format, isTTY) === 'text') return pino(options, textStream(opts.destination, isTTY));
  return pino(options, (opts.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: false }));
}
