import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { meshProxyPatchPlugin } from '../meshproxypatch/plugin.ts';
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
