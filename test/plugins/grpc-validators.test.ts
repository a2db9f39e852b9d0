import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { meshFaultInjectionPlugin } from '../../libs/policies/meshfaultinjection/plugin.ts';
import { meshHttpRoutePlugin } from '../../libs/policies/meshhttproute/plugin.ts';
import { meshRateLimitPlugin } from '../../libs/policies/meshratelimit/plugin.ts';
import { meshTcpRoutePlugin } from '../../libs/policies/meshtcproute/plugin.ts';
import { loadCase } from '../../libs/testkit/translation-cases.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { Translator } from '../../libs/xds/translator.ts';
import { grpcDecodeError, grpcValidates } from '../policies/grpc-validate.ts';

/**
 * Every Listener, Cluster and ClusterLoadAssignment a proxyless gRPC client can be served from
 * the plugins' golden cases goes through grpc-js-xds' own resource validators, the ones its
 * client runs before it ACKs. Includes the proxyless server listeners next to inbounds that
 * MeshFaultInjection and MeshRateLimit configure (validated as a server would).
 */
const plugins = [meshHttpRoutePlugin, meshTcpRoutePlugin, meshFaultInjectionPlugin, meshRateLimitPlugin];
const policies = join(import.meta.dirname, '../../libs/policies');

const cases = [
  'meshhttproute/testdata/grpc-proxyless',
  'meshhttproute/testdata/split-and-matches',
  'meshhttproute/testdata/filters',
  'meshtcproute/testdata/grpc-proxyless',
  'meshfaultinjection/testdata/proxyless-client',
  'meshfaultinjection/testdata/inbound-faults',
  'meshratelimit/testdata/inbound-limits',
];

describe('grpc-js-xds accepts what the plugins give proxyless clients and servers', () => {
  it.each(cases)('%s', (c) => {
    const { mesh, views, dataplane, policies: p } = loadCase(join(policies, `${c}.input.yaml`));
    const snap = new Translator(undefined, plugins).translate(mesh, dataplane, views.get(mesh)!, p);
    const checked: string[] = [];
    for (const section of [snap.namedOnly, snap.resources]) {
      for (const [typeUrl, byName] of section) {
        if (!grpcValidates(typeUrl)) continue;
        for (const r of byName.values()) {
          // gRPC only ever asks for the named-only listeners (api_listener, kuma.io/grpc/inbound/...); Envoy's own are not its business.
          if (typeUrl === TypeUrl.Listener && section === snap.resources) continue;
          // Nor the local application's and the admin clusters: gRPC asks only for the clusters its routes name.
          if (r.name.startsWith('localhost:') || r.name.startsWith('kuma:')) continue;
          expect(grpcDecodeError(typeUrl, r.bytes), `${r.name}`).toBeUndefined();
          checked.push(r.name);
        }
      }
    }
    expect(checked.length).toBeGreaterThan(2);
  });

  it('and would NACK a fault filter on a server listener (why the server listeners are left alone)', () => {
    const { mesh, views, dataplane, policies: p } = loadCase(join(policies, 'meshfaultinjection/testdata/inbound-faults.input.yaml'));
    const snap = new Translator(undefined, plugins).translate(mesh, dataplane, views.get(mesh)!, p);
    const inbound = snap.resources.get(TypeUrl.Listener)!.get('inbound:10.0.0.2:9090')!;
    // The Envoy inbound listener, faulted, offered to gRPC as if it were the server listener.
    expect(grpcDecodeError(TypeUrl.Listener, inbound.bytes)).toMatch(/envoy\.filters\.http\.fault filter validation failed/);
  });
});
