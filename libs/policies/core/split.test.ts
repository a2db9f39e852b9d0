import { describe, expect, it } from 'vitest';
import { MeshViews } from '../../mesh-view/mesh-view.ts';
import type { Resource } from '../../resources/resource.ts';
import { casePolicies } from '../../testkit/translation-cases.ts';
import { MapSharedCache } from '../../xds/generate/context.ts';
import { TypeUrl } from '../../xds/protos.ts';
import { decodeToObject } from '../../xds/resource.ts';
import { Translator } from '../../xds/translator.ts';
import { meshHttpRoutePlugin } from '../meshhttproute/plugin.ts';
import { makeSplit, splitClusterName } from './split.ts';

let version = 1;
const res = (type: string, name: string, spec: unknown, mesh?: string): Resource => ({
  meta: { type, name, ...(mesh ? { mesh } : {}), labels: {}, creationTime: 'x', modificationTime: 'x', version: version++ },
  spec: spec as Resource['spec'],
});
const backend = (name: string, address: string, v: string): Resource =>
  res('Dataplane', name, { networking: { address, inbound: [{ port: 8080, tags: { 'kuma.io/service': 'backend', 'kuma.io/protocol': 'http', version: v } }] } }, 'default');

function mesh(): MeshViews {
  const views = new MeshViews();
  views.apply('Mesh', undefined, 'default', res('Mesh', 'default', {}));
  views.apply('Dataplane', 'default', 'web', res('Dataplane', 'web', { networking: { address: '10.0.0.1', inbound: [{ port: 80, tags: { 'kuma.io/service': 'web' } }], outbound: [{ port: 10001, tags: { 'kuma.io/service': 'backend' } }] } }, 'default'));
  views.apply('Dataplane', 'default', 'b1', backend('b1', '10.0.0.2', 'v1'));
  views.apply('Dataplane', 'default', 'b2', backend('b2', '10.0.0.3', 'v2'));
  return views;
}

const v2Only = casePolicies({
  toService: { MeshHTTPRoute: { backend: { rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], default: { backendRefs: [{ kind: 'MeshServiceSubset', name: 'backend', tags: { version: 'v2' } }] } }] } } },
});

describe('route splits', () => {
  it('names a subset cluster after the service and a digest of its tags, the same whatever the tags order', () => {
    expect(splitClusterName('backend')).toBe('backend');
    expect(splitClusterName('backend', { version: 'v1', zone: 'a' })).toBe(splitClusterName('backend', { zone: 'a', version: 'v1' }));
    expect(splitClusterName('backend', { version: 'v1' })).toMatch(/^backend-[0-9a-f]{16}$/);
    expect(splitClusterName('backend', { version: 'v1' })).not.toBe(splitClusterName('backend', { version: 'v2' }));
  });

  it("drops an HTTP split to a service that does not exist, keeps a TCP one (Kuma's protocol check)", () => {
    const view = mesh().get('default')!;
    expect(makeSplit(view, [{ kind: 'MeshService', name: 'backend' }, { kind: 'MeshService', name: 'ghost' }], 'http')).toBeUndefined();
    expect(makeSplit(view, [{ kind: 'MeshService', name: 'ghost', weight: 3 }], 'tcp')?.splits).toEqual([{ cluster: 'ghost', weight: 3 }]);
    expect(makeSplit(view, [{ kind: 'MeshExternalService', name: 'x' }, { kind: 'MeshService', name: 'backend', weight: 0 }], 'http')?.splits).toEqual([]);
  });

  it("serves a subset's load assignment through a slot of the service: an endpoint change rebuilds it with only the matching endpoints", () => {
    const views = mesh();
    const shared = new MapSharedCache();
    const translator = new Translator(shared, [meshHttpRoutePlugin]);
    const view = views.get('default')!;
    const snap = translator.translate('default', view.dataplane('web')!, view, v2Only);
    const name = splitClusterName('backend', { version: 'v2' });
    const cla = snap.resources.get(TypeUrl.ClusterLoadAssignment)!.get(name)!;
    expect(cla.shareKey).toBeDefined();
    const addresses = (r: typeof cla) =>
      ((decodeToObject(TypeUrl.ClusterLoadAssignment, r.bytes) as { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string } } } }[] }[] }).endpoints ?? [])
        .flatMap((l) => l.lb_endpoints.map((e) => e.endpoint.address.socket_address.address));
    expect(addresses(cla)).toEqual(['10.0.0.3']);

    // A new v2 endpoint and a new v1 one: the projector rebuilds the service's slots only.
    views.apply('Dataplane', 'default', 'b3', backend('b3', '10.0.0.4', 'v2'));
    views.apply('Dataplane', 'default', 'b4', backend('b4', '10.0.0.5', 'v1'));
    const slots = [...shared.slotsOf('default', 'backend')];
    const subset = slots.find(([key]) => key === cla.shareKey);
    expect(subset, `slots: ${slots.map(([k]) => k).join(', ')}`).toBeDefined();
    const rebuilt = subset![1](view.service('backend')!);
    expect(rebuilt.name).toBe(name);
    expect(rebuilt.shareKey).toBe(cla.shareKey);
    expect(addresses(rebuilt)).toEqual(['10.0.0.3', '10.0.0.4']);
  });
});
