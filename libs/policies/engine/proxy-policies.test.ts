import { describe, expect, it } from 'vitest';
import { MeshViews } from '../../mesh-view/mesh-view.ts';
import type { Resource } from '../../resources/resource.ts';
import { POLICY_TYPES } from '../register.ts';
import { defaultPoliciesFor } from '../defaults.ts';
import { ComputedPolicies } from './proxy-policies.ts';

let version = 0;
const resource = (type: string, mesh: string | undefined, name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}): Resource => ({
  meta: { type, ...(mesh ? { mesh } : {}), name, labels, creationTime: '', modificationTime: '', version: ++version },
  spec,
});
const dataplane = (name: string, service: string, labels: Record<string, string> = {}) =>
  resource('Dataplane', 'default', name, { networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': service, version: 'v1' } }], outbound: [{ port: 10001, tags: { 'kuma.io/service': 'backend' } }] } }, labels);

function mesh(policies: { type: string; name: string; spec: Record<string, unknown> }[]) {
  const views = new MeshViews(new Set(POLICY_TYPES.map((d) => d.name)));
  views.apply('Mesh', undefined, 'default', resource('Mesh', undefined, 'default', {}));
  for (const d of [dataplane('web-1', 'web'), dataplane('web-2', 'web', { team: 'a' }), dataplane('db-1', 'db')]) views.apply('Dataplane', 'default', d.meta.name, d);
  for (const p of [...defaultPoliciesFor('default', {}), ...policies]) views.apply(p.type, 'default', p.name, resource(p.type, 'default', p.name, p.spec));
  const state = views.get('default')!;
  return { views, state, of: (dp: string) => new ComputedPolicies(state, state.dataplaneModel(dp)!) };
}

describe('the rules a proxy gets', () => {
  it('with only the default policies: Kuma\'s defaults, outbound and inbound', () => {
    const { of } = mesh([]);
    const web = of('web-1');
    expect(web.toService('MeshTimeout', 'backend')).toEqual({ connectionTimeout: '5s', idleTimeout: '1h', http: { requestTimeout: '15s', streamIdleTimeout: '30m' } });
    expect(web.toService('MeshRetry', 'backend')).toMatchObject({ tcp: { maxConnectAttempt: 5 }, http: { numRetries: 5 } });
    expect(web.fromInbound('MeshTimeout', { address: '10.0.0.1', port: 8080 } as never)).toEqual({
      connectionTimeout: '10s',
      idleTimeout: '2h',
      http: { requestTimeout: '0s', streamIdleTimeout: '1h', maxStreamDuration: '0s' },
    });
    // the gateways' default selects no sidecar; a type nothing selects answers undefined
    expect(web.toService('MeshHealthCheck', 'backend')).toBeUndefined();
    expect(web.proxy('MeshTrace')).toBeUndefined();
  });

  it('merges a more specific policy over the defaults, field by field, for the proxies it selects only', () => {
    const { of } = mesh([
      {
        type: 'MeshTimeout',
        name: 'web-to-backend',
        spec: { targetRef: { kind: 'MeshService', name: 'web' }, to: [{ targetRef: { kind: 'MeshService', name: 'backend' }, default: { http: { requestTimeout: '2s' } } }] },
      },
    ]);
    expect(of('web-1').toService('MeshTimeout', 'backend')).toEqual({ connectionTimeout: '5s', idleTimeout: '1h', http: { requestTimeout: '2s', streamIdleTimeout: '30m' } });
    expect((of('db-1').toService('MeshTimeout', 'backend') as { http: { requestTimeout: string } }).http.requestTimeout).toBe('15s');
  });

  it('lets the alphabetically first of two equally specific policies win', () => {
    const policy = (name: string, requestTimeout: string) => ({
      type: 'MeshTimeout',
      name,
      spec: { targetRef: { kind: 'Dataplane', labels: { team: 'a' } }, to: [{ targetRef: { kind: 'Mesh' }, default: { http: { requestTimeout } } }] },
    });
    const { of } = mesh([policy('zzz', '9s'), policy('aaa', '1s')]);
    expect((of('web-2').toService('MeshTimeout', 'backend') as { http: { requestTimeout: string } }).http.requestTimeout).toBe('1s');
    expect((of('web-1').toService('MeshTimeout', 'backend') as { http: { requestTimeout: string } }).http.requestTimeout).toBe('15s');
  });

  it('keeps a MeshHTTPRoute\'s rules in its own order, merging rules of identical matches', () => {
    const { of } = mesh([
      {
        type: 'MeshHTTPRoute',
        name: 'route',
        spec: {
          targetRef: { kind: 'Mesh' },
          to: [
            {
              targetRef: { kind: 'MeshService', name: 'backend' },
              rules: [
                { matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], default: { backendRefs: [{ kind: 'MeshService', name: 'backend-v2' }] } },
                { matches: [{ path: { type: 'PathPrefix', value: '/' } }], default: { backendRefs: [{ kind: 'MeshService', name: 'backend' }] } },
              ],
            },
          ],
        },
      },
    ]);
    const conf = of('web-1').toService('MeshHTTPRoute', 'backend') as { rules: { matches: { path: { value: string } }[] }[] };
    expect(conf.rules.map((r) => r.matches[0]!.path.value)).toEqual(['/v2', '/']);
  });
});

describe('the mesh view\'s policy index', () => {
  it('a policy change affects exactly the proxies it selected before or selects now', () => {
    const { views } = mesh([]);
    const apply = (spec: Record<string, unknown> | undefined) =>
      views.get('default')!.affected(views.apply('MeshTimeout', 'default', 'p', spec ? resource('MeshTimeout', 'default', 'p', spec) : undefined)!);
    const to = [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '1s' } }];
    expect([...apply({ targetRef: { kind: 'MeshService', name: 'web' }, to })].sort()).toEqual(['web-1', 'web-2']);
    expect([...apply({ targetRef: { kind: 'MeshService', name: 'db' }, to })].sort()).toEqual(['db-1', 'web-1', 'web-2']);
    expect([...apply(undefined)]).toEqual(['db-1']);
    expect([...apply({ targetRef: { kind: 'Mesh' }, to })].sort()).toEqual(['db-1', 'web-1', 'web-2']);
  });
});
