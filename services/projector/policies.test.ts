import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { POLICY_TYPES } from '../../libs/policies/register.ts';
import type { TranslationPlugin } from '../../libs/xds/generate/plugin.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { SnapshotCache } from '../../libs/xds/snapshot-cache.ts';
import type { Snapshot } from '../../libs/xds/snapshot.ts';
import { projectorEvent as event } from '../../libs/testkit/projector-events.ts';
import { XdsMetrics } from '../../libs/xds/metrics.ts';
import { SnapshotGenerator } from './generator.ts';
import { policyPlugins } from '../../libs/policies/plugins.ts';
import { ComputedPolicies } from '../../libs/policies/engine/proxy-policies.ts';
import { MapSharedCache } from '../../libs/xds/generate/context.ts';
import { Translator } from '../../libs/xds/translator.ts';

/** A stand-in plugin: MeshTimeout's `connectionTimeout` (whole seconds) on clusters to a service. */
const connectTimeouts: TranslationPlugin = {
  name: 'test-connect-timeout',
  order: 1000,
  reads: ['MeshTimeout'],
  configure: (part, ctx) => (part.kind === 'cds' && part.origin.kind === 'outbound' ? (ctx.policies.toService('MeshTimeout', part.origin.service) as { connectionTimeout?: string } | undefined)?.connectionTimeout : undefined),
  apply: (drafts, conf) => {
    for (const d of drafts) d.body['connect_timeout'] = { seconds: Number(String(conf).replace('s', '')) };
  },
};

const dp = (name: string, service: string) => ({ networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': service } }], outbound: [{ port: 10001, tags: { 'kuma.io/service': 'backend' } }] } });
const timeoutOf = (s: Snapshot | undefined) => (s?.resources.get(TypeUrl.Cluster)?.get('backend')?.body['connect_timeout'] as { seconds: number } | undefined)?.seconds;

describe('policies in the projector', () => {
  it('regenerate exactly the proxies a policy change selects, and proxies configured alike share the result', async () => {
    const cache = new SnapshotCache({ onFirstWatch: (key) => gen.onWatch(key) });
    const gen = new SnapshotGenerator(cache, new XdsMetrics(new Registry()), pino({ level: 'silent' }), {
      debounceMs: 0,
      plugins: [connectTimeouts],
      policyTypes: new Set(POLICY_TYPES.map((d) => d.name)),
    });
    const apply = (...args: Parameters<typeof event>) => gen.onEvent(...event(...args));
    const settle = () => new Promise((r) => setTimeout(r, 20));
    apply('Mesh', undefined, 'default', {});
    for (const [name, svc] of [['web-1', 'web'], ['web-2', 'web'], ['db-1', 'db'], ['backend-1', 'backend']] as const) apply('Dataplane', 'default', name, dp(name, svc));
    const seen = new Map<string, (Snapshot | undefined)[]>();
    for (const name of ['web-1', 'web-2', 'db-1']) cache.watch(`default.${name}`, (s) => seen.set(name, [...(seen.get(name) ?? []), s]));
    expect(timeoutOf(cache.get('default.web-1'))).toBe(5); // no policy: the configurer's own value

    apply('MeshTimeout', 'default', 'mesh-wide', { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '7s' } }] });
    await settle();
    for (const name of ['web-1', 'web-2', 'db-1']) expect(timeoutOf(cache.get(`default.${name}`)), name).toBe(7);
    // one Cluster object for all three: built once for the configuration, not per proxy
    const cluster = (name: string) => cache.get(`default.${name}`)!.resources.get(TypeUrl.Cluster)!.get('backend');
    expect(cluster('web-1')).toBe(cluster('db-1'));

    const counts = () => Object.fromEntries([...seen].map(([k, v]) => [k, v.length]));
    const before = counts();
    apply('MeshTimeout', 'default', 'web-only', { targetRef: { kind: 'MeshService', name: 'web' }, to: [{ targetRef: { kind: 'MeshService', name: 'backend' }, default: { connectionTimeout: '2s' } }] });
    await settle();
    expect(counts()).toEqual({ ...before, 'web-1': before['web-1']! + 1, 'web-2': before['web-2']! + 1 });
    expect(timeoutOf(cache.get('default.web-2'))).toBe(2);
    expect(timeoutOf(cache.get('default.db-1'))).toBe(7);

    apply('MeshTimeout', 'default', 'web-only', undefined);
    await settle();
    expect(timeoutOf(cache.get('default.web-2'))).toBe(7);
    expect(counts()['db-1']).toBe(before['db-1']);
    gen.stop();
  });

  it('a translation redone for the changed policy types alone serves what a whole one would', async () => {
    const cache = new SnapshotCache({ onFirstWatch: (key) => gen.onWatch(key) });
    const gen = new SnapshotGenerator(cache, new XdsMetrics(new Registry()), pino({ level: 'silent' }), {
      debounceMs: 0,
      plugins: policyPlugins(),
      policyTypes: new Set(POLICY_TYPES.map((d) => d.name)),
    });
    const apply = (...args: Parameters<typeof event>) => gen.onEvent(...event(...args));
    const settle = () => new Promise((r) => setTimeout(r, 20));
    const http = (name: string, service: string, address: string) => ({
      networking: { address, inbound: [{ port: 8080, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'http' } }], outbound: [{ port: 10001, tags: { 'kuma.io/service': 'backend' } }] },
    });
    apply('Mesh', undefined, 'default', {});
    const proxies = [['web-1', 'web', '10.0.0.1'], ['web-2', 'web', '10.0.0.2'], ['db-1', 'db', '10.0.0.3'], ['backend-1', 'backend', '10.0.0.4']] as const;
    for (const [name, svc, address] of proxies) apply('Dataplane', 'default', name, http(name, svc, address));
    for (const [name] of proxies) cache.watch(`default.${name}`, () => undefined);
    const hashes = (s: Snapshot | undefined) =>
      (['resources', 'namedOnly'] as const).flatMap((section) => [...(s?.[section] ?? [])].flatMap(([t, m]) => [...m.values()].map((r) => `${section} ${t} ${r.name} ${r.hash}`))).sort();
    /** Every proxy's served snapshot against a whole translation by a fresh translator. */
    const expectWhole = (step: string) => {
      const view = gen.views.get('default')!;
      const fresh = new Translator(new MapSharedCache(), policyPlugins());
      for (const [name] of proxies) {
        const whole = fresh.translate('default', view.dataplane(name)!, view, new ComputedPolicies(view, view.dataplaneModel(name)!));
        expect(hashes(cache.get(`default.${name}`)), `${step}: ${name}`).toEqual(hashes(whole));
      }
    };
    const timeout = (requestTimeout: string) => ({ targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '3s', http: { requestTimeout } } }] });
    const steps: [string, () => void][] = [
      ['mesh-wide timeout', () => apply('MeshTimeout', 'default', 'all', timeout('9s'))],
      ['timeout changed', () => apply('MeshTimeout', 'default', 'all', timeout('11s'))],
      ['a timeout for web alone', () => apply('MeshTimeout', 'default', 'web', { targetRef: { kind: 'MeshService', name: 'web' }, to: [{ targetRef: { kind: 'MeshService', name: 'backend' }, default: { http: { requestTimeout: '2s' } } }] })],
      // web's proxies and the others have different outbound rules: neither reuses the other's transitions.
      ['timeout changed beside it', () => apply('MeshTimeout', 'default', 'all', timeout('10s'))],
      ['timeout back to an earlier value', () => apply('MeshTimeout', 'default', 'all', timeout('11s'))],
      ['retry for web', () => apply('MeshRetry', 'default', 'web', { targetRef: { kind: 'MeshService', name: 'web' }, to: [{ targetRef: { kind: 'Mesh' }, default: { http: { numRetries: 4 } } }] })],
      ['retry and timeout in one window', () => {
        apply('MeshRetry', 'default', 'web', { targetRef: { kind: 'MeshService', name: 'web' }, to: [{ targetRef: { kind: 'Mesh' }, default: { http: { numRetries: 5 } } }] });
        apply('MeshTimeout', 'default', 'web', undefined);
      }],
      ['an endpoint of backend moves', () => apply('Dataplane', 'default', 'backend-1', http('backend-1', 'backend', '10.0.0.9'))],
      ['circuit breaker to backend', () => apply('MeshCircuitBreaker', 'default', 'cb', { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'MeshService', name: 'backend' }, default: { connectionLimits: { maxConnections: 3 } } }] })],
      ['timeout and endpoint in one window', () => {
        apply('MeshTimeout', 'default', 'all', timeout('12s'));
        apply('Dataplane', 'default', 'backend-1', http('backend-1', 'backend', '10.0.0.10'));
      }],
      ['a route splits web\'s traffic', () => apply('MeshHTTPRoute', 'default', 'split', { targetRef: { kind: 'MeshService', name: 'web' }, to: [{ targetRef: { kind: 'MeshService', name: 'backend' }, rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], default: { backendRefs: [{ kind: 'MeshService', name: 'db', weight: 1 }] } }] }] })],
      ['timeout after the route', () => apply('MeshTimeout', 'default', 'all', timeout('13s'))],
      ['retry removed', () => apply('MeshRetry', 'default', 'web', undefined)],
    ];
    const eds = (name: string) => cache.get(`default.${name}`)?.resources.get(TypeUrl.ClusterLoadAssignment);
    for (const [step, change] of steps) {
      const before = eds('web-1');
      change();
      await settle();
      expectWhole(step);
      // A timeout touches no load assignment: streams see the same map and skip the type.
      if (step === 'timeout changed') expect(eds('web-1')).toBe(before);
    }
    gen.stop();
  });

  it('an outboundPure plugin is asked once per distinct outbound part and policies, not once per proxy', async () => {
    let asked = 0;
    const counting: TranslationPlugin = { ...connectTimeouts, outboundPure: true, configure: (part, ctx) => (part.origin.kind === 'outbound' && asked++, connectTimeouts.configure(part, ctx)) };
    const cache = new SnapshotCache({ onFirstWatch: (key) => gen.onWatch(key) });
    const gen = new SnapshotGenerator(cache, new XdsMetrics(new Registry()), pino({ level: 'silent' }), { debounceMs: 0, plugins: [counting], policyTypes: new Set(POLICY_TYPES.map((d) => d.name)) });
    const apply = (...args: Parameters<typeof event>) => gen.onEvent(...event(...args));
    const timeout = (connectionTimeout: string) => ({ targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout } }] });
    apply('Mesh', undefined, 'default', {});
    apply('Dataplane', 'default', 'backend-1', { networking: { address: '10.0.0.9', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'backend' } }] } });
    const names = Array.from({ length: 20 }, (_, i) => `web-${i}`);
    names.forEach((n, i) => apply('Dataplane', 'default', n, { ...dp(n, 'web'), networking: { ...dp(n, 'web').networking, address: `10.0.1.${i}` } }));
    apply('MeshTimeout', 'default', 'all', timeout('4s'));
    for (const n of names) cache.watch(`default.${n}`, () => undefined);
    const perProxy = asked / names.length;
    asked = 0;
    apply('MeshTimeout', 'default', 'all', timeout('6s'));
    await new Promise((r) => setTimeout(r, 20));
    // One proxy's outbound parts for all twenty (and the changed cluster once more, to build it), not twenty times as many.
    expect(asked).toBeGreaterThan(0);
    expect(asked).toBeLessThan(2 * perProxy);
    for (const n of names) expect(timeoutOf(cache.get(`default.${n}`)), n).toBe(6);
    gen.stop();
  });

  it('an outboundPure plugin that reads the Dataplane for an outbound part fails loudly', () => {
    const impure: TranslationPlugin = { ...connectTimeouts, name: 'impure', outboundPure: true, configure: (part, ctx) => (part.origin.kind === 'outbound' ? ctx.dataplane.address : undefined) };
    const views = new SnapshotGenerator(new SnapshotCache(), new XdsMetrics(new Registry()), pino({ level: 'silent' }), { debounceMs: 0 }).views;
    views.apply('Mesh', undefined, 'default', event('Mesh', undefined, 'default', {})[1]);
    views.apply('Dataplane', 'default', 'web-1', event('Dataplane', 'default', 'web-1', dp('web-1', 'web'))[1]);
    const view = views.get('default')!;
    expect(() => new Translator(new MapSharedCache(), [impure]).translate('default', view.dataplane('web-1')!, view, new ComputedPolicies(view, view.dataplaneModel('web-1')!))).toThrow(
      'translation plugin "impure" is outboundPure but read ctx.dataplane for an outbound part',
    );
  });

  it('a plugin that asks for rules of a type it does not declare fails loudly', () => {
    const sneaky: TranslationPlugin = { ...connectTimeouts, name: 'sneaky', reads: ['MeshRetry'] };
    const views = new SnapshotGenerator(new SnapshotCache(), new XdsMetrics(new Registry()), pino({ level: 'silent' }), { debounceMs: 0 }).views;
    views.apply('Mesh', undefined, 'default', event('Mesh', undefined, 'default', {})[1]);
    views.apply('Dataplane', 'default', 'web-1', event('Dataplane', 'default', 'web-1', dp('web-1', 'web'))[1]);
    views.apply('Dataplane', 'default', 'backend-1', event('Dataplane', 'default', 'backend-1', dp('backend-1', 'backend'))[1]);
    const view = views.get('default')!;
    expect(() => new Translator(new MapSharedCache(), [sneaky]).translate('default', view.dataplane('web-1')!, view, new ComputedPolicies(view, view.dataplaneModel('web-1')!))).toThrow(
      'translation plugin "sneaky" asked for MeshTimeout rules but does not declare MeshTimeout in its reads',
    );
  });
});

describe('by-name resources (a proxyless client dialling a service it has no outbound for)', () => {
  it('carry the policies that select every proxy, not those of a subset, and follow their changes', async () => {
    const cache = new SnapshotCache({ onFirstWatch: (key) => gen.onWatch(key), onFirstServiceWatch: (mesh, svc) => gen.onServiceWatch(mesh, svc) });
    const gen = new SnapshotGenerator(cache, new XdsMetrics(new Registry()), pino({ level: 'silent' }), { debounceMs: 0, plugins: policyPlugins(), policyTypes: new Set(POLICY_TYPES.map((d) => d.name)) });
    const apply = (...args: Parameters<typeof event>) => gen.onEvent(...event(...args));
    const settle = () => new Promise((r) => setTimeout(r, 20));
    const grpc = (name: string, svc: string, port: number, outbound: string[] = []) => ({
      networking: { address: '10.0.0.1', inbound: [{ port, tags: { 'kuma.io/service': svc, 'kuma.io/protocol': 'grpc' } }], outbound: outbound.map((s, i) => ({ port: 10001 + i, tags: { 'kuma.io/service': s } })) },
    });
    apply('Mesh', undefined, 'default', {});
    apply('MeshTimeout', 'default', 'mesh-wide', { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '7s' } }] });
    apply('Dataplane', 'default', 'greeter-1', grpc('greeter-1', 'greeter', 8080));
    apply('Dataplane', 'default', 'client-1', grpc('client-1', 'client', 8081, ['greeter']));
    const byName: (Snapshot | undefined)[] = [];
    cache.watchService('default', 'greeter', (s) => byName.push(s));
    await settle();
    const namedCluster = () => byName.at(-1)?.namedOnly.get(TypeUrl.Cluster)?.get('greeter');
    const seconds = (r: { body: Record<string, unknown> } | undefined) => (r?.body['connect_timeout'] as { seconds?: number } | undefined)?.seconds;
    expect(seconds(namedCluster())).toBe(7);
    // What a consumer selected by the same policies gets: the very same object.
    const clientCluster = () => gen.generate('default.client-1')!.resources.get(TypeUrl.Cluster)!.get('greeter');
    expect(namedCluster()!.hash).toBe(clientCluster()!.hash);

    // A policy of a subset is the client's alone.
    apply('MeshTimeout', 'default', 'client-only', { targetRef: { kind: 'MeshSubset', tags: { 'kuma.io/service': 'client' } }, to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '2s' } }] });
    await settle();
    expect(seconds(clientCluster())).toBe(2);
    expect(seconds(namedCluster())).toBe(7);
    // A mesh-wide change reaches the by-name resources too.
    apply('MeshTimeout', 'default', 'mesh-wide', { targetRef: { kind: 'Mesh' }, to: [{ targetRef: { kind: 'Mesh' }, default: { connectionTimeout: '9s' } }] });
    await settle();
    expect(seconds(namedCluster())).toBe(9);
    gen.stop();
  });
});
