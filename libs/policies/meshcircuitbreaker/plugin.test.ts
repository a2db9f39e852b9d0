import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { configureCluster, InvalidDecimalError } from './configurer.ts';
import { meshCircuitBreakerPlugin } from './plugin.ts';

describe('MeshCircuitBreaker plugin (golden)', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshCircuitBreakerPlugin])) it(name, run);
});

describe('MeshCircuitBreaker configurer', () => {
  it('standardDeviationFactor is a decimal times 1000 (int or string)', () => {
    for (const [v, want] of [[2, 2000], ['1.9', 1900], ['0.0015', 1]] as const) {
      const c: Record<string, unknown> = {};
      configureCluster(c, { outlierDetection: { detectors: { successRate: { standardDeviationFactor: v } } } });
      expect((c['outlier_detection'] as Record<string, unknown>)['success_rate_stdev_factor']).toEqual({ value: want });
    }
    expect(() => configureCluster({}, { outlierDetection: { detectors: { successRate: { standardDeviationFactor: 'x' } } } })).toThrow(InvalidDecimalError);
  });

  it('an empty configuration changes nothing', () => {
    const c: Record<string, unknown> = { name: 'a' };
    configureCluster(c, {});
    expect(c).toEqual({ name: 'a' });
  });
});
