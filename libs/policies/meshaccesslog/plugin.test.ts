import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { DEFAULT_TCP_FORMAT, interpolate } from './format.ts';
import { otelEndpoint } from './otel-clusters.ts';
import { accessLogSocketName, meshAccessLogPlugin } from './plugin.ts';

describe('MeshAccessLog plugin (golden)', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshAccessLogPlugin])) it(name, run);
});

describe('MeshAccessLog helpers', () => {
  const v = { mesh: 'm', sourceIp: '10.0.0.1', sourceService: 'web', destinationService: 'backend', direction: 'OUTBOUND' } as const;

  it('resolves Kuma placeholders and leaves Envoy commands and unknown KUMA_ names alone', () => {
    expect(interpolate(DEFAULT_TCP_FORMAT, v)).toBe(
      '[%START_TIME%] %RESPONSE_FLAGS% m 10.0.0.1(web)->%UPSTREAM_HOST%(backend) took %DURATION%ms, sent %BYTES_SENT% bytes, received: %BYTES_RECEIVED% bytes',
    );
    expect(interpolate('%KUMA_SOURCE_ADDRESS% %KUMA_NOPE% %KUMA_TRAFFIC_DIRECTION%', { ...v, sourceIp: 'fd00::1' })).toBe('[fd00::1]:0 %KUMA_NOPE% OUTBOUND');
  });

  it('parses collector endpoints as Kuma does (port 4317 by default)', () => {
    expect(otelEndpoint('collector')).toEqual({ address: 'collector', port: 4317 });
    expect(otelEndpoint('collector:4318')).toEqual({ address: 'collector', port: 4318 });
  });

  it('trims long socket paths to fit a Unix socket', () => {
    expect(accessLogSocketName('web-1', 'default')).toBe('/tmp/kuma-al-web-1-default.sock');
    expect(accessLogSocketName('x'.repeat(200), 'default')).toHaveLength(105);
  });
});
