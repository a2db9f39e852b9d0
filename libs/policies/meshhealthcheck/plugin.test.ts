import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { selectHealthCheckType, serializeTags } from './health-check.ts';
import { meshHealthCheckPlugin } from './plugin.ts';

describe('MeshHealthCheck plugin (golden)', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshHealthCheckPlugin])) it(name, run);
});

describe('MeshHealthCheck checker selection (Kuma selectHealthCheckType)', () => {
  it.each([
    ['http', { http: {} }, 'http'],
    ['http2', { http: {}, tcp: {} }, 'http'],
    ['grpc', { grpc: {} }, 'grpc'],
    ['grpc', { http: {} }, 'none'],
    ['grpc', { grpc: { disabled: true }, tcp: {} }, 'tcp'],
    ['grpc', { grpc: { disabled: true } }, 'none'],
    ['http', { http: { disabled: true }, tcp: {} }, 'tcp'],
    ['http', { tcp: {} }, 'none'],
    ['tcp', { tcp: {} }, 'tcp'],
    ['tcp', { tcp: { disabled: true }, http: {} }, 'none'],
  ] as const)('%s with %j -> %s', (protocol, conf, want) => expect(selectHealthCheckType(protocol, conf)).toBe(want));

  it('serializes tags as Kuma does', () => {
    expect(serializeTags({ 'kuma.io/service': ['web'], app: ['b', 'a'] })).toBe('&app=a,b&&kuma.io/service=web&');
  });
});
