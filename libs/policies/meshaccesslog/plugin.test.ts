import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MeshViews } from '../../mesh-view/mesh-view.ts';
import { translationCases } from '../../testkit/translation-cases.ts';
import { ComputedPolicies } from '../engine/proxy-policies.ts';
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

describe('MeshAccessLog Mesh-wide rules', () => {
  it("destination '' gets exactly the entries that target the whole Mesh (Kuma's RootContext)", () => {
    const views = new MeshViews(new Set(['MeshAccessLog']));
    const res = (type: string, mesh: string | undefined, name: string, spec: Record<string, unknown>) =>
      views.apply(type, mesh, name, { meta: { type, ...(mesh ? { mesh } : {}), name, labels: {}, creationTime: '', modificationTime: '', version: 1 }, spec });
    res('Mesh', undefined, 'default', {});
    res('Dataplane', 'default', 'web-1', { networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }], transparentProxying: { redirectPortOutbound: 15001, redirectPortInbound: 15006 } } });
    const file = (path: string) => ({ backends: [{ type: 'File', file: { path } }] });
    res('MeshAccessLog', 'default', 'mal', {
      targetRef: { kind: 'Mesh' },
      to: [
        { targetRef: { kind: 'Mesh' }, default: file('/tmp/all') },
        { targetRef: { kind: 'MeshService', name: 'backend' }, default: file('/tmp/backend') },
      ],
    });
    const mesh = views.get('default')!;
    const policies = new ComputedPolicies(mesh, mesh.dataplaneModel('web-1')!);
    expect(policies.toAnyService('MeshAccessLog')).toEqual(file('/tmp/all'));
    expect(policies.toService('MeshAccessLog', 'backend')).toEqual(file('/tmp/backend'));
  });
});
