import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { casePolicies, loadCase, snapshotYaml } from '../testkit/translation-cases.ts';
import { TypeUrl } from '../xds/protos.ts';
import { Translator } from '../xds/translator.ts';
import { meshFaultInjectionPlugin } from './meshfaultinjection/plugin.ts';
import { meshHttpRoutePlugin } from './meshhttproute/plugin.ts';
import { meshRateLimitPlugin } from './meshratelimit/plugin.ts';
import { meshTcpRoutePlugin } from './meshtcproute/plugin.ts';

/** How the routing and traffic plugins behave together, beyond their golden cases. */
const plugins = [meshHttpRoutePlugin, meshTcpRoutePlugin, meshFaultInjectionPlugin, meshRateLimitPlugin];
const here = import.meta.dirname;

describe('routing and traffic plugins', () => {
  it.each([
    '../xds/testdata/http-outbound',
    '../xds/testdata/grpc-transparent',
    '../xds/testdata/inbound-tcp',
    'meshhttproute/testdata/split-and-matches',
    'meshratelimit/testdata/inbound-limits',
  ])('change nothing where no policy applies (%s without its policies is today\'s output)', (c) => {
    const { mesh, views, dataplane } = loadCase(join(here, `${c}.input.yaml`));
    const without = new Translator().translate(mesh, dataplane, views.get(mesh)!);
    const withPlugins = new Translator(undefined, plugins).translate(mesh, dataplane, views.get(mesh)!, casePolicies({}));
    expect(snapshotYaml(withPlugins)).toBe(snapshotYaml(without));
  });

  it('share the resources of proxies configured alike (the configuration is the cache key)', () => {
    const { mesh, views, dataplane, policies } = loadCase(join(here, 'meshhttproute/testdata/split-and-matches.input.yaml'));
    const translator = new Translator(undefined, plugins);
    const a = translator.translate(mesh, dataplane, views.get(mesh)!, policies);
    const b = translator.translate(mesh, dataplane, views.get(mesh)!, policies);
    const other = translator.translate(mesh, dataplane, views.get(mesh)!, casePolicies({}));
    const route = (s: typeof a) => s.resources.get(TypeUrl.RouteConfiguration)!.get('outbound:backend')!;
    expect(route(b)).toBe(route(a));
    expect(route(other)).not.toBe(route(a));
    expect(route(other).hash).not.toBe(route(a).hash);
  });

  it('leave out what validation would have rejected, instead of failing the proxy', () => {
    const { mesh, views, dataplane } = loadCase(join(here, 'meshratelimit/testdata/inbound-limits.input.yaml'));
    const hostile = casePolicies({
      fromInbound: {
        MeshFaultInjection: {
          '8080': { http: [{ delay: { value: '5 parsecs', percentage: 10 } }, { abort: { httpStatus: 503, percentage: 'lots' } }, { abort: { httpStatus: 500, percentage: 50 } }] },
          '9090': { http: [{ responseBandwidth: { limit: '10 furlongs', percentage: 10 } }] },
        },
        MeshRateLimit: { '8080': { local: { http: { requestRate: { num: 5, interval: 'soon' } } } } },
      },
    });
    const snap = new Translator(undefined, plugins).translate(mesh, dataplane, views.get(mesh)!, hostile);
    const yaml = snapshotYaml(snap);
    // Only the one valid fault made it; nothing else changed.
    expect(yaml.match(/envoy\.filters\.http\.fault$/gm)).toHaveLength(1);
    expect(yaml).toContain('http_status: 500');
    expect(yaml).not.toContain('local_ratelimit');
    const baseline = snapshotYaml(new Translator().translate(mesh, dataplane, views.get(mesh)!));
    const listener = (y: string, name: string) => y.split(`  ${name}:\n`)[1]!.split(/\n  \S/)[0];
    expect(listener(yaml, 'inbound:10.0.0.2:9090')).toBe(listener(baseline, 'inbound:10.0.0.2:9090'));
  });
});
