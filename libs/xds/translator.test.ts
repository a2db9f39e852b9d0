import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MeshViews } from '../mesh-view/mesh-view.ts';
import { defaultRegistry } from '../resources/builtin.ts';
import type { Resource } from '../resources/resource.ts';
import { decodeResource } from '../resources/wire.ts';
import { translationCases } from '../testkit/translation-cases.ts';
import { strictDiff } from './resource.ts';
import { ResourceCollisionError } from './snapshot.ts';
import { MapSharedCache } from './generate/context.ts';
import { NO_POLICIES, type TranslationPlugin } from './generate/plugin.ts';
import { DEFAULT_CONFIGURERS, Translator, translateDataplane, type Configurer } from './translator.ts';
import { TypeUrl } from './protos.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const registry = defaultRegistry();

function load(file: string): { proxy: string; mesh: string; views: MeshViews; byName: Map<string, Resource> } {
  const doc = parse(readFileSync(join(dir, file), 'utf8')) as { proxy: string; resources: unknown[] };
  const views = new MeshViews();
  const byName = new Map<string, Resource>();
  doc.resources.forEach((raw, i) => {
    const input = decodeResource(raw, registry);
    const r: Resource = {
      meta: { type: input.type, ...(input.mesh ? { mesh: input.mesh } : {}), name: input.name, labels: {}, creationTime: 'x', modificationTime: 'x', version: i + 1 },
      spec: input.spec,
    };
    views.apply(r.meta.type, r.meta.mesh, r.meta.name, r);
    if (r.meta.type === 'Dataplane') byName.set(r.meta.name, r);
  });
  const dp = byName.get(doc.proxy)!;
  return { proxy: doc.proxy, mesh: dp.meta.mesh!, views, byName };
}

describe('translator golden files', () => {
  for (const [name, run] of translationCases(dir)) it(name, run);
});

describe('translator', () => {
  it('is deterministic: the same input gives byte-identical resources', () => {
    const a = load('http-outbound.input.yaml');
    const b = load('http-outbound.input.yaml');
    const sa = translateDataplane(a.mesh, a.byName.get(a.proxy)!, a.views.get(a.mesh)!);
    const sb = translateDataplane(b.mesh, b.byName.get(b.proxy)!, b.views.get(b.mesh)!);
    const hashes = (s: typeof sa) => [...s.resources.values()].flatMap((m) => [...m.values()].map((r) => `${r.name}=${r.hash}`)).sort();
    expect(hashes(sa)).toEqual(hashes(sb));
  });

  it('rejects resources that would collide, naming them', () => {
    const { mesh, views, byName } = load('inbound-tcp.input.yaml');
    const dp = byName.get('redis-1')!;
    // two inbounds with the same local servicePort but different protocols -> two different "localhost:6379" clusters
    const spec = structuredClone(dp.spec) as { networking: { inbound: Record<string, unknown>[] } };
    spec.networking.inbound.push({ port: 16380, servicePort: 6379, tags: { 'kuma.io/service': 'redis2', 'kuma.io/protocol': 'grpc' } });
    expect(() => translateDataplane(mesh, { ...dp, spec }, views.get(mesh)!)).toThrow(ResourceCollisionError);
  });

  it('a misspelled field fails strict decoding', () => {
    expect(strictDiff('type.googleapis.com/envoy.config.listener.v3.Listener' as never, { name: 'x', adress: {} })).toEqual([
      'envoy.config.listener.v3.Listener.adress: not in Envoy\'s schema (or default value)',
    ]);
  });
});

describe('translation plugins', () => {
  /** Sets the connect timeout of clusters to `backend` for proxies labelled `tier`: `gold` 1 s, others untouched. */
  const timeouts = (order: number, seconds: (tier: string) => number | undefined): TranslationPlugin => ({
    name: `timeouts-${order}`,
    order,
    reads: [],
    configure: (part, ctx) => {
      const tier = ctx.dataplane.labels['tier'];
      if (part.origin.kind !== 'outbound' || part.origin.service !== 'backend' || tier === undefined) return undefined;
      return seconds(tier);
    },
    apply: (drafts, conf) => {
      for (const d of drafts) if (d.typeUrl === TypeUrl.Cluster) d.body['connect_timeout'] = { seconds: conf as number };
    },
  });
  const labelled = (r: Resource, tier: string | undefined): Resource => ({ ...r, meta: { ...r.meta, labels: tier ? { tier } : {} } });
  const clusterOf = (s: ReturnType<Translator['translate']>) => s.resources.get(TypeUrl.Cluster)!.get('backend')!;
  const claOf = (s: ReturnType<Translator['translate']>) => s.resources.get(TypeUrl.ClusterLoadAssignment)!.get('backend')!;

  it('apply in ascending order to the drafts, and proxies configured alike share the encoded resources', () => {
    const { mesh, views, byName } = load('http-outbound.input.yaml');
    const dp = byName.get('web-1')!;
    const shared = new MapSharedCache();
    // registered out of order: the one with the higher order applies last and wins
    const t = new Translator(shared, [timeouts(20, (tier) => (tier === 'gold' ? 1 : undefined)), timeouts(10, () => 9)]);
    const gold1 = t.translate(mesh, labelled(dp, 'gold'), views.get(mesh)!);
    const gold2 = t.translate(mesh, labelled({ ...dp }, 'gold'), views.get(mesh)!);
    const silver = t.translate(mesh, labelled(dp, 'silver'), views.get(mesh)!);
    const plain = t.translate(mesh, labelled(dp, undefined), views.get(mesh)!);
    expect((clusterOf(gold1).body['connect_timeout'] as { seconds: number }).seconds).toBe(1);
    expect((clusterOf(silver).body['connect_timeout'] as { seconds: number }).seconds).toBe(9);
    expect((clusterOf(plain).body['connect_timeout'] as { seconds: number }).seconds).toBe(5);
    expect(strictDiff(TypeUrl.Cluster, clusterOf(gold1).body as Record<string, unknown>)).toEqual([]);
    // the same configuration: the same objects; another configuration: another object
    expect(clusterOf(gold2)).toBe(clusterOf(gold1));
    expect(clusterOf(silver)).not.toBe(clusterOf(gold1));
    // another service's resources are the same for all of them
    expect(gold1.resources.get(TypeUrl.Cluster)!.get('not-running-yet')).toBe(plain.resources.get(TypeUrl.Cluster)!.get('not-running-yet'));
  });

  it('give each distinct configuration of a load assignment its own slot, rebuilt with the service', () => {
    const { mesh, views, byName } = load('http-outbound.input.yaml');
    const dp = byName.get('web-1')!;
    const shared = new MapSharedCache();
    const t = new Translator(shared, [timeouts(10, (tier) => (tier === 'gold' ? 1 : 2))]);
    const gold = t.translate(mesh, labelled(dp, 'gold'), views.get(mesh)!);
    const silver = t.translate(mesh, labelled(dp, 'silver'), views.get(mesh)!);
    const plain = t.translate(mesh, labelled(dp, undefined), views.get(mesh)!);
    expect(claOf(plain).shareKey).toBe('backend');
    expect(claOf(gold).shareKey).toMatch(/^backend~/);
    expect(new Set([claOf(gold).shareKey, claOf(silver).shareKey, claOf(plain).shareKey]).size).toBe(3);
    // the same content under three slots: stored once by hash
    expect(new Set([claOf(gold).hash, claOf(silver).hash, claOf(plain).hash]).size).toBe(1);
    const slots = [...shared.slotsOf(mesh, 'backend')];
    expect(slots.map(([k]) => k).sort()).toEqual([claOf(gold).shareKey, claOf(silver).shareKey, 'backend'].sort());
    // an endpoint change: each slot rebuilds from the new service view alone, keeping its slot
    const view = views.get(mesh)!;
    view.setDataplane('backend-2', undefined);
    const rebuilt = slots.map(([k, rebuild]) => [k, rebuild(view.service('backend')!)] as const);
    for (const [k, r] of rebuilt) {
      expect(r.shareKey).toBe(k);
      expect((r.body['endpoints'] as unknown[]).length).toBe(1);
    }
    shared.dropSlots(mesh, 'backend');
    expect([...shared.slotsOf(mesh, 'backend')]).toEqual([]);
  });

  it('rebuild after a policy change only the load assignments whose service view was replaced', () => {
    const { mesh, views, byName } = load('http-outbound.input.yaml');
    const view = views.get(mesh)!;
    // Counts, per service, how often a load assignment part is made anew from a service view.
    const refreshed = new Map<string, number>();
    const counted = (configurer: Configurer): Configurer => (ctx) =>
      configurer(ctx).map(function count(part): typeof part {
        const slot = part.slot;
        if (!slot) return part;
        return { ...part, slot: { service: slot.service, of: (svc) => (refreshed.set(svc.name, (refreshed.get(svc.name) ?? 0) + 1), count(slot.of(svc))) } };
      });
    const reader: TranslationPlugin = { name: 'reader', order: 1, reads: ['MeshTimeout'], configure: () => undefined, apply: () => undefined };
    const t = new Translator(new MapSharedCache(), [reader], DEFAULT_CONFIGURERS.map(counted));
    const dp = byName.get('web-1')!;
    const first = t.retranslate(mesh, dp, view, NO_POLICIES);
    const changed = new Set(['MeshTimeout']);
    const second = t.retranslate(mesh, dp, view, NO_POLICIES, first.translation, changed);
    expect(second.incremental).toBe(true);
    expect(refreshed.size).toBe(0);
    view.setDataplane('backend-2', undefined);
    const third = t.retranslate(mesh, dp, view, NO_POLICIES, second.translation, changed);
    expect(Object.fromEntries(refreshed)).toEqual({ backend: 1 });
    expect((third.translation.snapshot.resources.get(TypeUrl.ClusterLoadAssignment)!.get('backend')!.body['endpoints'] as unknown[]).length).toBe(1);
  });
});

