import { describe, expect, it } from 'vitest';
import { fractionalPercent, PercentageError } from './percentage.ts';

describe("Kuma's percentage conversion (ConvertPercentage)", () => {
  it('keeps whole numbers over HUNDRED, two decimals over TEN_THOUSAND, finer over MILLION (as Kuma goldens show)', () => {
    expect(fractionalPercent(12)).toEqual({ numerator: 12 });
    expect(fractionalPercent('100')).toEqual({ numerator: 100 });
    expect(fractionalPercent('62.9')).toEqual({ numerator: 6290, denominator: 'TEN_THOUSAND' });
    // 33.3 * 100 is not a whole number in binary floating point, as in Go: Kuma's golden has 333000/MILLION.
    expect(fractionalPercent('33.3')).toEqual({ numerator: 333000, denominator: 'MILLION' });
    expect(fractionalPercent(0.5)).toEqual({ numerator: 50, denominator: 'TEN_THOUSAND' });
    expect(fractionalPercent('0.0001')).toEqual({ numerator: 1, denominator: 'MILLION' });
  });
});

describe('hostile percentages', () => {
  it.each(['', 'abc', '101', '-1', 'NaN', 'Infinity', '1e400'])('rejects %j with a PercentageError', (v) => {
    expect(() => fractionalPercent(v)).toThrow(PercentageError);
  });
});
