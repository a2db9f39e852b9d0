import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshFaultInjectionPlugin } from '../../libs/policies/meshfaultinjection/plugin.ts';
import { meshHttpRoutePlugin } from '../../libs/policies/meshhttproute/plugin.ts';
import { meshRateLimitPlugin } from '../../libs/policies/meshratelimit/plugin.ts';
import { meshTcpRoutePlugin } from '../../libs/policies/meshtcproute/plugin.ts';
import { MeshViews } from '../../libs/mesh-view/mesh-view.ts';
import { defaultRegistry } from '../../libs/resources/builtin.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import { decodeResource } from '../../libs/resources/wire.ts';
import { eventually } from '../../libs/testkit/eventually.ts';
import { startPlainGreeter, xdsGreeterClient, type GreeterClient } from '../../libs/testkit/grpc-apps.ts';
import { freePort } from '../../libs/testkit/ports.ts';
import { casePolicies } from '../../libs/testkit/translation-cases.ts';
import { Translator } from '../../libs/xds/translator.ts';
import { InProcessAds } from '../policies/in-process-ads.ts';

/**
 * The policy plugins' proxyless gRPC output against real @grpc/grpc-js-xds clients: an
 * in-process ADS server (the real gateway streams over a SnapshotCache) serves each client the
 * snapshot the translator built for it with the plugins and its policies; two plain gRPC
 * Greeter servers are the two subsets of `greeter`. grpc-js-xds validates every resource and
 * NACKs what it does not accept, so a route that works proves the resources are accepted.
 */
const MESH = 'default';
let ads: InProcessAds;
let translator: Translator;
let nextVersion = 1;
const stops: (() => Promise<void> | void)[] = [];
const plugins = [meshHttpRoutePlugin, meshTcpRoutePlugin, meshFaultInjectionPlugin, meshRateLimitPlugin];
const registry = defaultRegistry();
const views = new MeshViews();

/** Per client proxy: the policies the policy engine would hand the plugins. */
const policiesOf: Record<string, Parameters<typeof casePolicies>[0]> = {
  'split-client': {
    toService: {
      MeshHTTPRoute: {
        greeter: {
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: '/' } }],
              default: {
                backendRefs: [
                  { kind: 'MeshServiceSubset', name: 'greeter', tags: { version: 'a' }, weight: 90 },
                  { kind: 'MeshServiceSubset', name: 'greeter', tags: { version: 'b' }, weight: 10 },
                ],
              },
            },
          ],
        },
      },
    },
  },
  'tcp-split-client': {
    toService: {
      MeshTCPRoute: {
        greeter: {
          default: {
            backendRefs: [
              { kind: 'MeshServiceSubset', name: 'greeter', tags: { version: 'a' }, weight: 90 },
              { kind: 'MeshServiceSubset', name: 'greeter', tags: { version: 'b' }, weight: 10 },
            ],
          },
        },
      },
    },
  },
  'fault-client': {
    toService: { MeshFaultInjection: { greeter: { http: [{ abort: { httpStatus: 503, percentage: 100 } }] } } },
  },
  'plain-client': {},
};

function apply(raw: unknown, version: number): void {
  const input = decodeResource(raw, registry);
  const r: Resource = {
    meta: { type: input.type, ...(input.mesh ? { mesh: input.mesh } : {}), name: input.name, labels: input.labels, creationTime: 'x', modificationTime: 'x', version },
    spec: input.spec,
  };
  views.apply(r.meta.type, r.meta.mesh, r.meta.name, r);
}

const dataplane = (name: string, port: number, tags: Record<string, string>, outbound = false) => ({
  type: 'Dataplane',
  mesh: MESH,
  name,
  networking: {
    address: '127.0.0.1',
    inbound: [{ port, tags: { 'kuma.io/protocol': 'grpc', ...tags } }],
    ...(outbound ? { outbound: [{ port: 10001, tags: { 'kuma.io/service': 'greeter' } }] } : {}),
  },
});

beforeAll(async () => {
  const [portA, portB] = [await freePort(), await freePort()];
  apply({ type: 'Mesh', name: MESH }, nextVersion++);
  apply(dataplane('greeter-a', portA, { 'kuma.io/service': 'greeter', version: 'a' }), nextVersion++);
  apply(dataplane('greeter-b', portB, { 'kuma.io/service': 'greeter', version: 'b' }), nextVersion++);
  for (const client of Object.keys(policiesOf)) apply(dataplane(client, await freePort(), { 'kuma.io/service': client }, true), nextVersion++);

  translator = new Translator(undefined, plugins);
  ads = await InProcessAds.start({
    snapshotOf: (key) => {
      const name = key.slice(MESH.length + 1);
      const view = views.get(MESH)!;
      return translator.translate(MESH, view.dataplane(name)!, view, casePolicies(policiesOf[name]));
    },
  });
  const a = await startPlainGreeter(portA, 'greeter-a');
  const b = await startPlainGreeter(portB, 'greeter-b');
  stops.push(a.stop, b.stop);
}, 60_000);

afterAll(async () => {
  for (const s of stops.reverse()) await s();
  // grpc-js-xds keeps its ADS streams open after the channels close: end them.
  ads?.stop();
});

function client(name: string): GreeterClient {
  const c = xdsGreeterClient({ serverUri: ads.uri, nodeId: `${MESH}.${name}`, service: 'greeter' });
  stops.push(() => c.close());
  return c;
}

/** The NACKs a proxy's streams recorded (none: every resource was accepted). */
function nacks(name: string): unknown[] {
  const insight = ads.status.insight(`${MESH}.${name}`);
  expect(insight, `no stream status recorded for ${name}`).toBeDefined();
  const found: unknown[] = [];
  JSON.stringify(insight, (k, v: unknown) => {
    if (k === 'lastNack' && v) found.push(v);
    return v;
  });
  return found;
}

/** 200 calls of a client whose policy splits greeter 90/10 between its subsets a and b: about 90% reach a, and nothing is NACKed. */
async function expectNinetyTen(name: string, policy: string): Promise<void> {
  const c = client(name);
  await eventually(() => c.hello(2000));
  const seen: Record<string, number> = {};
  for (let i = 0; i < 200; i++) {
    const r = await c.hello();
    seen[r] = (seen[r] ?? 0) + 1;
  }
  const a = seen['hello from greeter-a'] ?? 0;
  const b = seen['hello from greeter-b'] ?? 0;
  console.log(`${policy} 90/10 split over 200 calls: greeter-a ${a}, greeter-b ${b}`);
  expect(a + b).toBe(200);
  // Binomial(200, 0.9): mean 180, sd ~4.2; [160, 196] is beyond 4.5 sd either way, and
  // rules out both an even split (~100) and no split at all (200 or 0).
  expect(a).toBeGreaterThanOrEqual(160);
  expect(a).toBeLessThanOrEqual(196);
  expect(b).toBeGreaterThanOrEqual(4);
  expect(nacks(name)).toEqual([]);
}

describe('proxyless gRPC clients honour the policy plugins (real grpc-js-xds, in-process ADS)', () => {
  it('MeshHTTPRoute: a 90/10 weighted split between two subsets sends about 90% of 200 calls to the first', async () => {
    await expectNinetyTen('split-client', 'MeshHTTPRoute');
  });

  it('MeshTCPRoute: a 90/10 split of a gRPC destination, which no MeshHTTPRoute configures, holds for the proxyless client too', async () => {
    await expectNinetyTen('tcp-split-client', 'MeshTCPRoute');
  });

  it("MeshHTTPRoute: a new endpoint of a subset reaches the client through the subset's slot alone, as the projector pushes it", async () => {
    const c = client('split-client');
    await eventually(() => c.hello(2000));
    const portB2 = await freePort();
    const b2 = await startPlainGreeter(portB2, 'greeter-b2');
    stops.push(b2.stop);
    apply(dataplane('greeter-b2', portB2, { 'kuma.io/service': 'greeter', version: 'b' }), nextVersion++);
    // What the projector does for an endpoints-only change: rebuild each slot of the service, and
    // hand the new content to the sink by reference; no proxy's snapshot is retranslated.
    const svc = views.get(MESH)!.service('greeter')!;
    const slots = [...translator.shared.slotsOf(MESH, 'greeter')];
    expect(slots.length).toBeGreaterThanOrEqual(3); // greeter, greeter-<a>, greeter-<b>
    for (const [, rebuild] of slots) ads.cache.setShared(MESH, rebuild(svc));
    await eventually(async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 100; i++) seen.add(await c.hello());
      expect(seen).toContain('hello from greeter-b2');
    });
  });

  it('MeshFaultInjection: an abort of 100% with HTTP 503 fails every call with UNAVAILABLE (gRPC maps 503 so)', async () => {
    const c = client('fault-client');
    const err = await eventually(async () => {
      const e = await c.hello(2000).then(
        () => undefined,
        (x: unknown) => x as grpc.ServiceError,
      );
      // The abort is what fails the call, not a missing configuration (which would be UNAVAILABLE too, with another message).
      expect(e?.details).toMatch(/fault/i);
      return e!;
    });
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    for (let i = 0; i < 20; i++) await expect(c.hello(2000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(nacks('fault-client')).toEqual([]);
  });

  it('without policies, the same client setup reaches both backends (the control for both tests above)', async () => {
    const c = client('plain-client');
    await eventually(async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) seen.add(await c.hello());
      // Every endpoint of greeter (greeter-b2 too, once the test above added it), round robin.
      const all = views.get(MESH)!.service('greeter')!.endpoints.map((e) => `hello from ${e.dataplane}`);
      expect([...seen].sort()).toEqual(all.sort());
    });
    expect(nacks('plain-client')).toEqual([]);
  });
});
