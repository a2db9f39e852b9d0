/**
 * The floor for the xDS benchmark: an ADS server that does nothing but write pre-encoded
 * responses. At start-up (not measured) it translates every proxy of the topology, for the two
 * states the benchmark flips between, and encodes SotW and delta responses per type. Then it
 * answers each first request of a type with its bytes, and on `POST /change` writes the other
 * state's EDS change to every stream: only the resources that differ, in both modes (the xDS
 * protocol lets state-of-the-world EDS and RDS responses carry only what changed). `GET /stats`
 * answers the bytes and responses written by changes. Usage: floor-server.ts <grpcPort> <httpPort>
 * <proxies> <services> <outbounds> [transparent: 0|1]
 */
import * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:http';
import { MeshViews } from '../../libs/mesh-view/mesh-view.ts';
import { fullRegistry } from '../../libs/policies/registry.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import type { XdsResource } from '../../libs/xds/resource.ts';
import { decodeResource } from '../../libs/resources/wire.ts';
import { encodeDeltaResponse, encodeResponse, type DeltaDiscoveryRequest, type DiscoveryRequest } from '../../libs/xds/ads-codec.ts';
import { adsServiceDefinition } from '../../libs/xds/ads-service.ts';
import { MapSharedCache } from '../../libs/xds/generate/context.ts';
import { TYPE_ORDER, TypeUrl } from '../../libs/xds/protos.ts';
import { select, versionOf } from '../../libs/xds/snapshot.ts';
import { translateDataplane } from '../../libs/xds/translator.ts';
import { dataplaneBody } from './topology.ts';

const [grpcPort, httpPort, proxies, services, outbounds, transparent] = process.argv.slice(2).map(Number) as [number, number, number, number, number, number | undefined];
const t = { proxies, services, outbounds, transparent: transparent === 1 };
const registry = fullRegistry();

type Encoded = { sotw: Map<string, Buffer>; delta: Map<string, Buffer>; eds: XdsResource[] };
function encodeAll(dp0Port: number): Map<string, Encoded> {
  const views = new MeshViews();
  const toResource = (body: unknown, i: number): Resource => {
    const input = decodeResource(body, registry);
    return { meta: { type: input.type, ...(input.mesh ? { mesh: input.mesh } : {}), name: input.name, labels: {}, creationTime: '', modificationTime: '', version: i + 1 }, spec: input.spec };
  };
  views.apply('Mesh', undefined, 'default', toResource({ type: 'Mesh', name: 'default' }, 0));
  const dps: Resource[] = [];
  for (let i = 0; i < proxies; i++) {
    const r = toResource(dataplaneBody(t, i, i === 0 ? dp0Port : 8080), i + 1);
    dps.push(r);
    views.apply('Dataplane', 'default', r.meta.name, r);
  }
  const shared = new MapSharedCache();
  const out = new Map<string, Encoded>();
  for (const dp of dps) {
    const s = translateDataplane('default', dp, views.get('default')!, shared);
    const e: Encoded = { sotw: new Map(), delta: new Map(), eds: select(s, TypeUrl.ClusterLoadAssignment, 'wildcard') };
    for (const typeUrl of TYPE_ORDER) {
      const rs = select(s, typeUrl, 'wildcard');
      if (rs.length === 0) continue;
      e.sotw.set(typeUrl, encodeResponse(typeUrl, versionOf(rs), '1', rs));
      e.delta.set(typeUrl, encodeDeltaResponse(typeUrl, versionOf(rs), '1', rs, []));
    }
    out.set(`default.${dp.meta.name}`, e);
  }
  return out;
}

const states = [encodeAll(8080), encodeAll(8081)];
/**
 * What a change writes to each stream: only the EDS resources whose content differs between
 * the two states (svc-0's), in SotW (whose EDS responses need not repeat unchanged resources)
 * as in delta.
 */
const changes = states.map((to, i) => {
  const from = states[1 - i]!;
  const out = new Map<string, { sotw: Buffer; delta: Buffer }>();
  for (const [node, e] of to) {
    const before = new Map(from.get(node)!.eds.map((r) => [r.name, r.hash]));
    const changed = e.eds.filter((r) => before.get(r.name) !== r.hash);
    out.set(node, { sotw: encodeResponse(TypeUrl.ClusterLoadAssignment, versionOf(e.eds), '2', changed), delta: encodeDeltaResponse(TypeUrl.ClusterLoadAssignment, versionOf(e.eds), '2', changed, []) });
  }
  return out;
});
let current = 0;
const stats = { bytes: 0, pushes: 0 };
const streams = new Set<{ node: string; mode: 'sotw' | 'delta'; call: grpc.ServerDuplexStream<unknown, Buffer> }>();

function serve(mode: 'sotw' | 'delta') {
  return (call: grpc.ServerDuplexStream<unknown, Buffer>) => {
    let node = '';
    const entry = { node, mode, call };
    call.on('data', (req: DiscoveryRequest | DeltaDiscoveryRequest) => {
      if (req.node?.id) {
        node = req.node.id;
        entry.node = node;
        streams.add(entry);
      }
      if (req.responseNonce !== '') return; // an ACK
      const buf = states[current]!.get(node)?.[mode].get(req.typeUrl);
      if (buf) call.write(buf);
    });
    call.on('error', () => streams.delete(entry));
    call.on('end', () => {
      streams.delete(entry);
      call.end();
    });
  };
}

const server = new grpc.Server();
server.addService(adsServiceDefinition, { StreamAggregatedResources: serve('sotw'), DeltaAggregatedResources: serve('delta') });
server.bindAsync(`127.0.0.1:${grpcPort}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/change') {
      current = 1 - current;
      for (const s of streams) {
        const buf = changes[current]!.get(s.node)?.[s.mode];
        if (!buf) continue;
        stats.bytes += buf.length;
        stats.pushes++;
        s.call.write(buf);
      }
    }
    if (req.method === 'GET' && req.url === '/stats') {
      res.end(JSON.stringify(stats));
      return;
    }
    res.end('ok');
  }).listen(httpPort, '127.0.0.1', () => console.log('floor ready'));
});
