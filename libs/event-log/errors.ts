/** The resource's latest version in the log is not the one the writer expected. */
export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
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
