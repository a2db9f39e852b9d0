import type { JsonObject } from '../../resources/validation.ts';
import { parseGoDuration } from './duration.ts';

/** A Go duration (`5s`, `1h30m`, `500ms`) as a google.protobuf.Duration body (`{seconds, nanos}`). */
export function protoDuration(text: string): JsonObject {
  const parsed = parseGoDuration(text);
  if (!parsed.ok) throw new InvalidDurationError(parsed.error);
  return msToProto(parsed.ms);
}

/** Milliseconds as a google.protobuf.Duration body; whole seconds have no `nanos`. */
export function msToProto(ms: number): JsonObject {
  const seconds = Math.trunc(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos === 0 ? { seconds } : { seconds, nanos };
}

/** `text` when set, otherwise the default (Kuma's `toProtoDurationOrDefault`). */
export const durationOr = (text: string | undefined, defaultMs: number): JsonObject => (text === undefined ? msToProto(defaultMs) : protoDuration(text));

/** A duration a validator should have rejected reached a plugin. */
export class InvalidDurationError extends Error {
  override readonly name = 'InvalidDurationError';
}
