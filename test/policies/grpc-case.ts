import { MeshViews } from '../../libs/mesh-view/mesh-view.ts';
import { defaultRegistry } from '../../libs/resources/builtin.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import { decodeResource } from '../../libs/resources/wire.ts';
import { casePolicies } from '../../libs/testkit/translation-cases.ts';
import type { TranslationPlugin } from '../../libs/xds/generate/plugin.ts';
import type { Snapshot } from '../../libs/xds/snapshot.ts';
import { Translator } from '../../libs/xds/translator.ts';

const registry = defaultRegistry();

/** Backends of the `greeter` gRPC service: real servers on loopback, each in a zone. */
export interface Backend {
  readonly name: string;
  readonly port: number;
  readonly zone: string;
}

type Policies = Parameters<typeof casePolicies>[0];

/**
 * The snapshot of proxy `default.client-1` (zone-1), a proxyless gRPC client of `greeter`,
 * translated with `plugins` and the merged policy configurations `policies` (as in golden cases).
 */
export function clientSnapshot(backends: readonly Backend[], plugins: readonly TranslationPlugin[], policies: Policies): Snapshot {
  const dp = (name: string, port: number, service: string, zone: string, extra: object = {}) => ({
    type: 'Dataplane',
    mesh: 'default',
    name,
    networking: { address: '127.0.0.1', inbound: [{ port, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'grpc', 'kuma.io/zone': zone } }], ...extra },
  });
  const raw = [
    { type: 'Mesh', name: 'default' },
    dp('client-1', 19999, 'client', 'zone-1', { outbound: [{ port: 10001, tags: { 'kuma.io/service': 'greeter' } }] }),
    ...backends.map((b) => dp(b.name, b.port, 'greeter', b.zone)),
  ];
  const views = new MeshViews();
  let client: Resource | undefined;
  raw.forEach((r, i) => {
    const input = decodeResource(r, registry);
    const res: Resource = {
      meta: { type: input.type, ...(input.mesh ? { mesh: input.mesh } : {}), name: input.name, labels: input.labels, creationTime: 'x', modificationTime: 'x', version: i + 1 },
      spec: input.spec,
    };
    views.apply(res.meta.type, res.meta.mesh, res.meta.name, res);
    if (input.name === 'client-1') client = res;
  });
  return new Translator(undefined, plugins).translate('default', client!, views.get('default')!, casePolicies(policies));
}
