import { describe, expect, it } from 'vitest';
import type { Resource } from '../resources/resource.ts';
import { MeshViews } from './mesh-view.ts';

const dp = (name: string, networking: Record<string, unknown>): Resource => ({
  meta: { type: 'Dataplane', mesh: 'default', name, labels: {}, creationTime: '', modificationTime: '', version: 1 },
  spec: { networking },
});

describe('mesh view', () => {
  it('counts only ready inbounds as endpoints, and a readiness flip as an endpoint-only change', () => {
    const views = new MeshViews();
    views.apply('Dataplane', 'default', 'b-1', dp('b-1', { address: '10.0.0.1', inbound: [{ port: 80, tags: { 'kuma.io/service': 'b' } }] }));
    views.apply('Dataplane', 'default', 'b-2', dp('b-2', { address: '10.0.0.2', inbound: [{ port: 80, tags: { 'kuma.io/service': 'b' } }] }));
    expect(views.get('default')!.service('b')!.endpoints).toHaveLength(2);
    const change = views.apply('Dataplane', 'default', 'b-2', dp('b-2', { address: '10.0.0.2', inbound: [{ port: 80, health: { ready: false }, tags: { 'kuma.io/service': 'b' } }] }))!;
    expect(views.get('default')!.service('b')!.endpoints.map((e) => e.dataplane)).toEqual(['b-1']);
    expect([...change.endpointsOnly]).toEqual(['b']);
    views.apply('Dataplane', 'default', 'b-1', dp('b-1', { address: '10.0.0.1', inbound: [{ port: 80, state: 'Ignored', tags: { 'kuma.io/service': 'b' } }] }));
    expect(views.get('default')!.service('b')).toBeUndefined();
  });

  it('makes a Dataplane with a backendRef outbound a consumer of that service', () => {
    const views = new MeshViews();
    views.apply('Dataplane', 'default', 'web-1', dp('web-1', { address: '10.0.0.1', inbound: [{ port: 80, tags: { 'kuma.io/service': 'web' } }], outbound: [{ port: 10001, backendRef: { kind: 'MeshService', name: 'b', port: 80 } }] }));
    expect([...views.get('default')!.consumersOf('b')]).toEqual(['web-1']);
    expect(views.get('default')!.dataplaneModel('web-1')!.outbounds[0]!.service).toBe('b');
  });
});
