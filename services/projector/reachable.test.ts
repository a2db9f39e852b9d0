import { describe, expect, it } from 'vitest';
import { ReachableServices } from '../../libs/policies/meshtrafficpermission/index.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import type { Snapshot } from '../../libs/xds/snapshot.ts';
import { policyProjector } from './in-process.ts';


const MTLS = { mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } };
const tp = (i: number, service: string, extra: Record<string, unknown> = {}) => ({
  networking: {
    address: `10.0.0.${i}`,
    inbound: [{ port: 8080, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'http', version: 'v1' } }],
    transparentProxying: { redirectPortInbound: 15006, redirectPortOutbound: 15001, ...extra },
  },
});
const allow = (from: string) => ({ targetRef: { kind: 'MeshService', name: from }, default: { action: 'Allow' } });
const clustersOf = (s: Snapshot | undefined) => [...(s?.resources.get(TypeUrl.Cluster)?.keys() ?? [])].filter((n) => !n.includes(':')).sort();

function setup(trim = true) {
  const { cache, gen, apply } = policyProjector(trim ? { outboundTrim: new ReachableServices() } : {});
  const pushes = new Map<string, number>();
  const watch = (...names: string[]) => {
    for (const n of names) cache.watch(`default.${n}`, () => pushes.set(n, (pushes.get(n) ?? 0) + 1));
  };
  const clusters = (name: string) => clustersOf(cache.get(`default.${name}`));
  return { gen, apply, watch, pushes, clusters, settle: () => new Promise((r) => setTimeout(r, 20)) };
}

describe('trimming outbounds by MeshTrafficPermission (automatic reachable services)', () => {
  it("gives a transparent proxy outbounds only to the services whose permissions may let it in, as Kuma's graph", async () => {
    const { gen, apply, watch, clusters } = setup();
    apply('Mesh', undefined, 'default', MTLS);
    for (const [i, svc] of [[1, 'web'], [2, 'api'], [3, 'db'], [4, 'admin']] as const) apply('Dataplane', 'default', `${svc}-1`, tp(i, svc));
    // api: web may call; db: api may call, everyone but web (a deny rule by SPIFFE ID) may not;
    // admin: nothing selects it, so with mTLS nobody may call it (Kuma's default deny).
    apply('MeshTrafficPermission', 'default', 'api', { targetRef: { kind: 'MeshService', name: 'api' }, from: [allow('web')] });
    apply('MeshTrafficPermission', 'default', 'db', { targetRef: { kind: 'MeshService', name: 'db' }, from: [allow('api')] });
    apply('MeshTrafficPermission', 'default', 'web', { targetRef: { kind: 'MeshService', name: 'web' }, rules: [{ default: { allow: [{ spiffeID: { type: 'Prefix', value: 'spiffe://default/' } }], deny: [{ spiffeID: { type: 'Exact', value: 'spiffe://default/db' } }] } }] });
    watch('web-1', 'api-1', 'db-1', 'admin-1');
    expect(clusters('web-1')).toEqual(['api', 'web']);
    expect(clusters('api-1')).toEqual(['db', 'web']);
    expect(clusters('db-1')).toEqual([]);
    expect(clusters('admin-1')).toEqual(['web']);
    gen.stop();
  });

  it('a permission change rebuilds exactly the proxies whose reachable services it changed', async () => {
    const { gen, apply, watch, pushes, clusters, settle } = setup();
    apply('Mesh', undefined, 'default', MTLS);
    for (const [i, svc] of [[1, 'web'], [2, 'web'], [3, 'api'], [4, 'db']] as const) apply('Dataplane', 'default', `${svc}-${i}`, tp(i, svc));
    apply('MeshTrafficPermission', 'default', 'api', { targetRef: { kind: 'MeshService', name: 'api' }, from: [allow('web')] });
    watch('web-1', 'web-2', 'api-3', 'db-4');
    expect(clusters('db-4')).toEqual([]);
    const before = Object.fromEntries(pushes);

    // db may now call api: db-4 gains an outbound, api-3 gets new RBAC, the web proxies nothing.
    apply('MeshTrafficPermission', 'default', 'api', { targetRef: { kind: 'MeshService', name: 'api' }, from: [allow('web'), allow('db')] });
    await settle();
    expect(clusters('db-4')).toEqual(['api']);
    expect(Object.fromEntries(pushes)).toEqual({ ...before, 'db-4': before['db-4']! + 1, 'api-3': before['api-3']! + 1 });

    // A mesh-wide allow: everyone reaches everything; every proxy changes.
    apply('MeshTrafficPermission', 'default', 'allow-all', { targetRef: { kind: 'Mesh' }, from: [{ targetRef: { kind: 'Mesh' }, default: { action: 'Allow' } }] });
    await settle();
    for (const n of ['web-1', 'web-2', 'api-3', 'db-4']) expect(clusters(n), n).toEqual(['api', 'db', 'web']);

    // A change that moves no one's reachable services nor anyone's RBAC pushes nothing.
    const settled = Object.fromEntries(pushes);
    apply('MeshTrafficPermission', 'default', 'unused', { targetRef: { kind: 'MeshService', name: 'nobody' }, from: [allow('web')] });
    await settle();
    expect(Object.fromEntries(pushes)).toEqual(settled);
    gen.stop();
  });

  it('leaves outbounds alone without mTLS, with reachableServices listed, and when turned off', () => {
    const plain = setup();
    plain.apply('Mesh', undefined, 'default', {});
    plain.apply('Dataplane', 'default', 'web-1', tp(1, 'web'));
    plain.apply('Dataplane', 'default', 'api-1', tp(2, 'api'));
    plain.watch('web-1');
    expect(plain.clusters('web-1')).toEqual(['api', 'web']);
    plain.gen.stop();

    const listed = setup();
    listed.apply('Mesh', undefined, 'default', MTLS);
    listed.apply('Dataplane', 'default', 'web-1', tp(1, 'web', { reachableServices: ['api'] }));
    listed.apply('Dataplane', 'default', 'api-1', tp(2, 'api'));
    listed.watch('web-1');
    expect(listed.clusters('web-1')).toEqual(['api']);
    listed.gen.stop();

    const off = setup(false);
    off.apply('Mesh', undefined, 'default', MTLS);
    off.apply('Dataplane', 'default', 'web-1', tp(1, 'web'));
    off.apply('Dataplane', 'default', 'api-1', tp(2, 'api'));
    off.watch('web-1');
    expect(off.clusters('web-1')).toEqual(['api', 'web']);
    off.gen.stop();
  });

  it("reads permissions per service as Kuma: a subset by other tags widens to the whole service, Dataplane targetRefs do not count", async () => {
    const { gen, apply, watch, clusters } = setup();
    apply('Mesh', undefined, 'default', MTLS);
    apply('Dataplane', 'default', 'web-1', tp(1, 'web'));
    apply('Dataplane', 'default', 'api-1', tp(2, 'api'));
    apply('Dataplane', 'default', 'db-1', tp(3, 'db'));
    // Selects api's v1 instances: read as all of api, so web keeps its outbound.
    apply('MeshTrafficPermission', 'default', 'api-v1', { targetRef: { kind: 'MeshServiceSubset', name: 'api', tags: { version: 'v1' } }, from: [allow('web')] });
    // Selects db's Dataplanes by label: the graph cannot read it, so db stays unreachable for web.
    apply('MeshTrafficPermission', 'default', 'db-by-label', { targetRef: { kind: 'Dataplane', labels: { app: 'db' } }, from: [allow('web')] });
    watch('web-1');
    expect(clusters('web-1')).toEqual(['api']);
    gen.stop();
  });
});
