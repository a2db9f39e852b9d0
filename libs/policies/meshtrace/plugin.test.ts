import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { collectorOf } from './collector.ts';
import { meshTracePlugin, percent } from './plugin.ts';

describe('MeshTrace plugin (golden)', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshTracePlugin])) it(name, run);
});

describe('MeshTrace helpers', () => {
  it('reads sampling as Kuma decimals', () => {
    expect(percent(10)).toEqual({ value: 10 });
    expect(percent('12.5')).toEqual({ value: 12.5 });
    expect(percent('abc')).toBeUndefined();
  });

  it('names collector clusters after the provider and reads ports as Kuma does', () => {
    expect(collectorOf({ type: 'Datadog', datadog: { url: 'http://dd:8126' } })).toEqual({ cluster: 'meshtrace:datadog', endpoint: { address: 'dd', port: 8126 }, http2: false });
    expect(collectorOf({ type: 'OpenTelemetry', openTelemetry: { endpoint: 'c:4318' } })).toMatchObject({ cluster: 'meshtrace:opentelemetry', endpoint: { port: 4318 }, http2: true });
    expect(collectorOf({ type: 'OpenTelemetry', openTelemetry: { backendRef: { kind: 'MeshOpenTelemetryBackend', name: 'x' } } })).toBeUndefined();
  });
});
