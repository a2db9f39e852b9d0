/** Kuma's levels (`off`, `info`, `debug`) and pino's others. `off` logs nothing. */
export const LOG_LEVELS = ['off', 'trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `auto`: text on a terminal, JSON lines otherwise (a pipe, a file, a log collector). */
export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function isLogFormat(value: string): value is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(value);
}

/** What `auto` means for a destination: text only when a person is reading it. */
export function resolveLogFormat(format: LogFormat, destinationIsTTY: boolean): 'json' | 'text' {
  if (format !== 'auto') return format;
  return destinationIsTTY ? 'text' : 'json';
}
