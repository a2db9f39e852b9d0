import { describe, expect, it } from 'vitest';
import { parseGoDuration } from './duration.ts';

describe("Go's time.ParseDuration", () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['-1s', -1000],
    ['2h45m30.5s', 9_930_500],
    ['100us', 0.1],
    ['.5m', 30_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toEqual({ ok: true, ms });
  });
  it.each([
    ['', 'time: invalid duration ""'],
    ['abc', 'time: invalid duration "abc"'],
    ['10', 'time: missing unit in duration "10"'],
    ['1x', 'time: unknown unit "x" in duration "1x"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['1h 30m', 'time: unknown unit "h " in duration "1h 30m"'],
    ['.s', 'time: invalid duration ".s"'],
    ['-', 'time: invalid duration "-"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
  ])('%j is rejected', (text, error) => {
    expect(parseGoDuration(text)).toEqual({ ok: false, error });
  });
});
