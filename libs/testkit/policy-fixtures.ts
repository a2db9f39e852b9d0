/**
 * Reads Kuma-format test inputs (multi-document YAML of Dataplane, MeshGateway and policy resources, as in Kuma's
 * matchers/rules testdata) into the policy engine's input shapes.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { MatchableDataplane, MatchableMeshGateway, PolicyItem } from '../policies/core/matchable.ts';
import type { SelectionContext } from '../policies/core/select.ts';

type Doc = Record<string, unknown> & { type: string; name: string; mesh?: string; labels?: Record<string, string> };

export interface PolicyFixture {
  readonly dataplanes: MatchableDataplane[];
  readonly policies: PolicyItem[];
  readonly gateways: MatchableMeshGateway[];
  /** Routes by name or display name; the builtin gateway of a dataplane is the first MeshGateway. */
  readonly ctx: SelectionContext;
}

export function dataplaneFromKuma(d: Doc): MatchableDataplane {
  const net = (d['networking'] ?? {}) as Record<string, unknown>;
  const gw = net['gateway'] as { type?: string; tags?: Record<string, string> } | undefined;
  const inbounds = ((net['inbound'] ?? []) as Record<string, unknown>[]).map((i) => ({
    port: Number(i['port']),
    ...(i['address'] !== undefined ? { address: String(i['address']) } : {}),
    ...(i['name'] !== undefined ? { name: String(i['name']) } : {}),
    ...(i['state'] !== undefined ? { state: String(i['state']) } : {}),
    tags: (i['tags'] ?? {}) as Record<string, string>,
  }));
  return {
    mesh: d.mesh ?? 'default',
    name: d.name,
    labels: d.labels ?? {},
    proxyType: gw ? 'Gateway' : 'Sidecar',
    ...(net['address'] !== undefined ? { address: String(net['address']) } : {}),
    inbounds,
    ...(gw ? { gateway: { type: gw.type === 'BUILTIN' ? 'BUILTIN' : 'DELEGATED', tags: gw.tags ?? {} } } : {}),
  } as MatchableDataplane;
}

export function readPolicyFixture(path: string): PolicyFixture {
  const docs = parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as Doc).filter((d) => d && typeof d === 'object');
  const dataplanes: MatchableDataplane[] = [];
  const policies: PolicyItem[] = [];
  const gateways: MatchableMeshGateway[] = [];
  for (const d of docs) {
    if (d.type === 'Dataplane') dataplanes.push(dataplaneFromKuma(d));
    else if (d.type === 'MeshGateway') {
      const conf = (d['conf'] ?? {}) as { listeners?: { port: number; hostname?: string; tags?: Record<string, string> }[] };
      gateways.push({ name: d.name, labels: d.labels ?? {}, tags: (d['tags'] ?? {}) as Record<string, string>, listeners: conf.listeners ?? [] });
    } else if (d.type.startsWith('Mesh') && d['spec'] !== undefined) {
      policies.push({ type: d.type, name: d.name, mesh: d.mesh ?? 'default', labels: d.labels ?? {}, spec: d['spec'] as PolicyItem['spec'] });
    }
  }
  const ctx: SelectionContext = {
    route: (mesh, name) =>
      policies.find((p) => p.type === 'MeshHTTPRoute' && p.mesh === mesh && (p.name === name || p.labels?.['kuma.io/display-name'] === name)),
    gatewayOf: () => gateways[0],
  };
  return { dataplanes, policies, gateways, ctx };
}
