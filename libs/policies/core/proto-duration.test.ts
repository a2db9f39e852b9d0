import { describe, expect, it } from 'vitest';
import { DurationSyntaxError, parseDurationNs, protoDuration } from './proto-duration.ts';

describe('Go durations', () => {
  it.each([
    ['0', 0n],
    ['5s', 5_000_000_000n],
    ['1h30m', 5_400_000_000_000n],
    ['500ms', 500_000_000n],
    ['1.5s', 1_500_000_000n],
    ['2us', 2_000n],
    ['3µs', 3_000n],
    ['7ns', 7n],
    ['-1m', -60_000_000_000n],
    ['.5s', 500_000_000n],
  ])('%s is %d ns', (text, ns) => expect(parseDurationNs(text)).toBe(ns));

  it.each(['', '5', 's', '1d', '5 s', '1.s.', '--1s', '1h-30m'])('rejects %j with a DurationSyntaxError', (text) => {
    expect(() => parseDurationNs(text)).toThrow(DurationSyntaxError);
  });

  it('gives protobuf Durations as seconds and nanos', () => {
    expect(protoDuration('55s')).toEqual({ seconds: 55 });
    expect(protoDuration('1.5s')).toEqual({ seconds: 1, nanos: 500_000_000 });
    expect(protoDuration('250ms')).toEqual({ seconds: 0, nanos: 250_000_000 });
  });
});
