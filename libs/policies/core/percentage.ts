/** Thrown for a percentage that is not a number from 0 to 100. */
export class PercentageError extends Error {
  override readonly name = 'PercentageError';
}

/**
 * Kuma's percentages (an int or a decimal string, `"12.5"`) as Envoy's FractionalPercent, the way
 * Kuma converts them (`listeners_v3.ConvertPercentage`): a whole number over HUNDRED, a number with
 * up to two decimals over TEN_THOUSAND, anything finer over MILLION. Throws PercentageError.
 */
export function fractionalPercent(value: number | string): { numerator: number; denominator?: 'TEN_THOUSAND' | 'MILLION' } {
  const v = typeof value === 'number' ? value : value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(v) || v < 0 || v > 100) throw new PercentageError(`invalid percentage ${JSON.stringify(value)}: must be a number from 0 to 100`);
  if (Number.isInteger(v)) return { numerator: v };
  const tenThousand = v * 100;
  if (Number.isInteger(tenThousand)) return { numerator: tenThousand, denominator: 'TEN_THOUSAND' };
  return { numerator: Math.round(v * 10_000), denominator: 'MILLION' };
}
