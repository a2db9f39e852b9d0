import { describe, expect, it } from 'vitest';
import { decodeDeltaRequest, decodeDeltaResponse, decodeRequest, decodeResponse, encodeDeltaRequest, encodeDeltaResponse, encodeRequest, encodeResponse, jsonToStruct } from './ads-codec.ts';
import { messageType, TypeUrl } from './protos.ts';
import { makeResource } from './resource.ts';

const cla = (name: string, port: number) =>
  makeResource(TypeUrl.ClusterLoadAssignment, name, { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: port } } } }] }] });
const resources = [cla('backend', 80), cla('db', 5432), makeResource(TypeUrl.ClusterLoadAssignment, 'x'.repeat(300), { cluster_name: 'x'.repeat(300) })];

describe('ADS response encoding from per-resource parts', () => {
  it('writes the same bytes as protobufjs encoding the whole DeltaDiscoveryResponse', () => {
    const t = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
    for (const [rs, removed] of [
      [resources, ['gone', 'also-gone']],
      [[], ['only-removals']],
      [resources.slice(0, 1), []],
    ] as const) {
      const whole = t.encode(t.create({ system_version_info: 'v1', type_url: TypeUrl.ClusterLoadAssignment, nonce: '42', removed_resources: removed, resources: rs.map((r) => ({ name: r.name, version: r.hash, resource: { type_url: r.typeUrl, value: r.bytes } })) })).finish();
      const parts = encodeDeltaResponse(TypeUrl.ClusterLoadAssignment, 'v1', '42', rs, removed);
      expect(Buffer.compare(parts, Buffer.from(whole))).toBe(0);
      // twice: the second time from the cached per-resource encodings
      expect(Buffer.compare(encodeDeltaResponse(TypeUrl.ClusterLoadAssignment, 'v1', '42', rs, removed), parts)).toBe(0);
    }
    const back = decodeDeltaResponse(encodeDeltaResponse(TypeUrl.ClusterLoadAssignment, 'v2', '7', resources, ['gone']));
    expect(back['nonce']).toBe('7');
    expect((back['resources'] as { name: string; version: string }[]).map((r) => [r.name, r.version])).toEqual(resources.map((r) => [r.name, r.hash]));
  });

  it('writes the same bytes as protobufjs encoding the whole DiscoveryResponse', () => {
    const t = messageType('envoy.service.discovery.v3.DiscoveryResponse');
    const whole = t.encode(t.create({ version_info: 'abc', type_url: TypeUrl.ClusterLoadAssignment, nonce: '1', resources: resources.map((r) => ({ type_url: r.typeUrl, value: r.bytes })) })).finish();
    expect(Buffer.compare(encodeResponse(TypeUrl.ClusterLoadAssignment, 'abc', '1', resources), Buffer.from(whole))).toBe(0);
    expect((decodeResponse(encodeResponse(TypeUrl.ClusterLoadAssignment, '', '2', [])) as { resources: unknown[] }).resources).toEqual([]);
  });
});

describe('ADS request decoding', () => {
  const node = { id: 'default.web-1', user_agent_name: 'envoy', metadata: jsonToStruct({ version: { envoy: { version: '1.30.0' } }, ports: [1, 2] }) };

  it('decodes a first delta request with its node, and later ACKs and NACKs to plain values', () => {
    expect(decodeDeltaRequest(encodeDeltaRequest({ node, type_url: TypeUrl.Cluster, resource_names_subscribe: ['*'], initial_resource_versions: { a: 'v1' } }))).toEqual({
      node: { id: 'default.web-1', metadata: { version: { envoy: { version: '1.30.0' } }, ports: [1, 2] }, userAgentName: 'envoy' },
      typeUrl: TypeUrl.Cluster,
      subscribe: ['*'],
      unsubscribe: [],
      initialVersions: { a: 'v1' },
      responseNonce: '',
    });
    expect(decodeDeltaRequest(encodeDeltaRequest({ type_url: TypeUrl.Cluster, response_nonce: '7' }))).toEqual({ typeUrl: TypeUrl.Cluster, subscribe: [], unsubscribe: [], initialVersions: {}, responseNonce: '7' });
    expect(decodeDeltaRequest(encodeDeltaRequest({ type_url: TypeUrl.Cluster, response_nonce: '8', resource_names_unsubscribe: ['b'], error_detail: { code: 3, message: 'bad' } }))).toEqual({
      typeUrl: TypeUrl.Cluster,
      subscribe: [],
      unsubscribe: ['b'],
      initialVersions: {},
      responseNonce: '8',
      errorDetail: { code: 3, message: 'bad' },
    });
  });

  it('decodes SotW requests the same way', () => {
    expect(decodeRequest(encodeRequest({ node, type_url: TypeUrl.Listener }))).toMatchObject({ node: { id: 'default.web-1' }, typeUrl: TypeUrl.Listener, resourceNames: [], versionInfo: '', responseNonce: '' });
    expect(decodeRequest(encodeRequest({ type_url: TypeUrl.ClusterLoadAssignment, version_info: 'v2', response_nonce: '3', resource_names: ['a', 'b'] }))).toEqual({
      versionInfo: 'v2',
      resourceNames: ['a', 'b'],
      typeUrl: TypeUrl.ClusterLoadAssignment,
      responseNonce: '3',
    });
    expect(decodeRequest(encodeRequest({ type_url: TypeUrl.Listener, response_nonce: '4', error_detail: { code: 3, message: 'no' } })).errorDetail).toEqual({ code: 3, message: 'no' });
  });
});
