/** The resource's latest version in the log is not the one the writer expected. */
export class VersionConflictError extends Error {
  override readonly name: string = 'VersionConflictError';
  constructor(
    readonly subject: string,
    readonly expected: number,
    readonly actual: number | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `version conflict on ${subject}: expected version ${expected}` + (actual !== undefined ? `, found ${actual}` : ''),
      options,
    );
  }
}

/**
 * A batch append was cut short by a concurrent write on an adapter that cannot append a batch
 * atomically: `stored` are the batch's events that are in the log.
 */
export class BatchInterruptedError extends VersionConflictError {
  override readonly name = 'BatchInterruptedError';
  constructor(
    readonly stored: readonly { readonly seq: number }[],
    readonly total: number,
    subject: string,
    options?: ErrorOptions,
  ) {
    super(subject, 0, undefined, options);
    this.message = `a concurrent write interrupted a batch after ${stored.length} of ${total} events (at ${subject})`;
  }
}

/** The log cannot take or serve events now (server down, closed, failed write). Callers may retry. */
export class EventLogUnavailableError extends Error {
  override readonly name = 'EventLogUnavailableError';
}

/** An event is larger than the log accepts. */
export class EventTooLargeError extends Error {
  override readonly name = 'EventTooLargeError';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`event of ${size} bytes exceeds the log's limit of ${limit} bytes`);
  }
}
