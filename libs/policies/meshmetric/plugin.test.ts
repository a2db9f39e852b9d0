import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { meshProxyPatchPlugin } from '../meshproxypatch/plugin.ts';
import { formatGoDuration } from './go-duration.ts';
import { hijackerSocketName, meshMetricPlugin, prometheusListenerName } from './plugin.ts';

describe('MeshMetric plugin (golden)', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshMetricPlugin])) it(name, run);
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata', 'with-patch'), [meshMetricPlugin, meshProxyPatchPlugin])) it(name, run);
});

describe('MeshMetric names', () => {
  it("are Kuma's", () => {
    expect(prometheusListenerName(undefined)).toBe('_kuma:metrics:prometheus:default-backend');
    expect(prometheusListenerName('main')).toBe('_kuma:metrics:prometheus:main');
    expect(hijackerSocketName('backend', 'default')).toBe('/tmp/kuma-mh-backend-default.sock');
  });
});

describe("Go's duration text", () => {
  it('is what time.Duration.String() writes', () => {
    expect([60_000, 10_000, 90_000, 3_600_000, 5_400_500, 1500, 500, 0.5, 0].map(formatGoDuration)).toEqual(['1m0s', '10s', '1m30s', '1h0m0s', '1h30m0.5s', '1.5s', '500ms', '500µs', '0s']);
  });
});
