import { describe, expect, it } from 'vitest';
import { dataplaneModel, parseDataplane } from './dataplane-model.ts';
import type { Resource } from './resource.ts';

const dp = (spec: Record<string, unknown>): Resource => ({
  meta: { type: 'Dataplane', mesh: 'default', name: 'web-1', labels: { app: 'web' }, creationTime: '', modificationTime: '', version: 1 },
  spec,
});

describe('Dataplane model', () => {
  it('applies Kuma\'s defaults', () => {
    const m = parseDataplane('default', 'web-1', {}, {
      networking: { address: '10.0.0.1', advertisedAddress: '1.2.3.4', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }], outbound: [{ port: 10001, tags: { 'kuma.io/service': 'db' } }] },
    });
    expect(m.proxyType).toBe('Sidecar');
    expect(m.adminPort).toBe(9901);
    expect(m.inbounds[0]).toEqual({
      index: 0,
      address: '10.0.0.1',
      advertisedAddress: '1.2.3.4',
      port: 8080,
      servicePort: 8080,
      serviceAddress: '127.0.0.1',
      tags: { 'kuma.io/service': 'web' },
      service: 'web',
      protocol: 'tcp',
      state: 'Ready',
    });
    expect(m.outbounds).toEqual([{ index: 0, address: '127.0.0.1', port: 10001, service: 'db', tags: { 'kuma.io/service': 'db' } }]);
    expect(m.transparentProxying).toBeUndefined();
  });

  it('keeps what validation accepts and the translator used to drop: backendRef outbounds and inbound health', () => {
    const m = parseDataplane('default', 'web-1', {}, {
      networking: {
        address: '10.0.0.1',
        inbound: [
          { port: 1, health: { ready: false }, tags: { 'kuma.io/service': 'a' } },
          { port: 2, state: 'Ignored', tags: { 'kuma.io/service': 'b' } },
          { port: 3, health: { ready: true }, tags: { 'kuma.io/service': 'c' } },
        ],
        outbound: [{ port: 10001, backendRef: { kind: 'MeshService', name: 'backend', port: 8080 } }, { port: 10002, service: 'legacy' }],
        transparentProxying: { redirectPortInbound: 15006, reachableServices: ['x', ''] },
      },
    });
    expect(m.inbounds.map((i) => i.state)).toEqual(['NotReady', 'Ignored', 'Ready']);
    expect(m.outbounds.map((o) => o.service)).toEqual(['backend', 'legacy']);
    expect(m.outbounds[0]!.backendRef).toEqual({ kind: 'MeshService', name: 'backend', port: 8080 });
    expect(m.transparentProxying).toEqual({ redirectPortInbound: 15006, redirectPortOutbound: 15001, reachableServices: ['x'] });
  });

  it('reads fields of the wrong type as absent instead of throwing, and a gateway as a Gateway proxy', () => {
    const m = parseDataplane('default', 'gw', {}, { networking: { address: 7, inbound: 'x', outbound: [null, 3, { port: 'x' }], gateway: { tags: { 'kuma.io/service': 'edge' } } } });
    expect(m).toMatchObject({ address: '', inbounds: [], outbounds: [], proxyType: 'Gateway', gateway: { type: 'DELEGATED', tags: { 'kuma.io/service': 'edge' } } });
  });

  it('is parsed once per stored resource', () => {
    const r = dp({ networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }] } });
    expect(dataplaneModel(r)).toBe(dataplaneModel(r));
    expect(dataplaneModel(r).labels).toEqual({ app: 'web' });
    expect(dataplaneModel({ ...r })).not.toBe(dataplaneModel(r));
  });
});
