import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase, translationCases } from '../../testkit/translation-cases.ts';
import { PluginError } from '../../xds/plugin-error.ts';
import { messageType } from '../../xds/protos.ts';
import { Translator } from '../../xds/translator.ts';
import { meshProxyPatchPlugin, originOf } from './plugin.ts';
import { fromProtoJson, mergeMessage, toProtoJson } from './proto-json.ts';

describe('MeshProxyPatch plugin (golden)', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshProxyPatchPlugin])) it(name, run);
});

describe('MeshProxyPatch proto3 JSON', () => {
  const cluster = () => messageType('envoy.config.cluster.v3.Cluster');

  it('round-trips draft form through proto3 JSON (names, durations, wrappers, Any)', () => {
    const draft = {
      name: 'c',
      connect_timeout: { seconds: 2, nanos: 500_000_000 },
      per_connection_buffer_limit_bytes: { value: 10 },
      typed_extension_protocol_options: { x: { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: {} } } },
    };
    const json = toProtoJson(cluster(), draft) as Record<string, unknown>;
    expect(json).toMatchObject({ connectTimeout: '2.5s', perConnectionBufferLimitBytes: 10 });
    expect(fromProtoJson(cluster(), json)).toEqual(draft);
  });

  it('rejects unknown fields and malformed durations with their path', () => {
    expect(() => fromProtoJson(cluster(), { conectTimeout: '1s' })).toThrow('/conectTimeout: no such field in envoy.config.cluster.v3.Cluster');
    expect(() => fromProtoJson(cluster(), { connectTimeout: '1 minute' })).toThrow('/connectTimeout: invalid google.protobuf.Duration');
  });

  it("merges as Go's proto.Merge: lists append, oneof members replace each other, defaults do not overwrite", () => {
    const merged = mergeMessage(cluster(), { name: 'c', type: 'EDS', lb_policy: 'LEAST_REQUEST', health_checks: [{ timeout: { seconds: 1 } }] }, {
      cluster_type: { name: 'envoy.clusters.aggregate' },
      lb_policy: 'ROUND_ROBIN',
      health_checks: [{ timeout: { seconds: 2 } }],
    });
    expect(merged).toEqual({ name: 'c', lb_policy: 'LEAST_REQUEST', cluster_type: { name: 'envoy.clusters.aggregate' }, health_checks: [{ timeout: { seconds: 1 } }, { timeout: { seconds: 2 } }] });
  });
});

describe('MeshProxyPatch invalid results', () => {
  const translate = (appendModifications: unknown[]) => {
    const c = loadCase(join(import.meta.dirname, 'testdata', 'clusters.input.yaml'));
    const policies = { ...c.policies, proxy: (t: string) => (t === 'MeshProxyPatch' ? { appendModifications } : undefined) };
    return () => new Translator(undefined, [meshProxyPatchPlugin]).translate(c.mesh, c.dataplane, c.views.get(c.mesh)!, policies);
  };

  it('a JSON patch that leaves the schema, a failing test op, a bad value and a rename are PluginErrors naming the modification', () => {
    const cases: [unknown[], string][] = [
      [[{ cluster: { operation: 'Patch', match: { name: 'backend' }, jsonPatches: [{ op: 'add', path: '/noSuchField', value: 1 }] } }], 'appendModifications[0].cluster: JSON patch result is not a valid envoy.config.cluster.v3.Cluster: /noSuchField: no such field'],
      [[{ cluster: { operation: 'Patch', jsonPatches: [{ op: 'test', path: '/name', value: 'nope' }] } }], 'appendModifications[0].cluster: JSON patch failed'],
      [[{ cluster: { operation: 'Add', value: 'type: [' } }], 'appendModifications[0].cluster: value is not valid YAML'],
      [[{}, { cluster: { operation: 'Add', value: 'connectTimeout: 1s' } }], 'appendModifications[1].cluster: an added cluster needs a name'],
      [[{ cluster: { operation: 'Patch', match: { name: 'backend' }, value: 'name: other' } }], 'a patch may not rename cluster "backend"'],
      [[{ cluster: { operation: 'Patch', match: { name: 'backend' }, value: 'connectTimeout: 1s\nlbPolicy: NO_SUCH_POLICY' } }], 'Cluster "backend" is not valid Envoy configuration'],
    ];
    for (const [mods, message] of cases) {
      const run = translate(mods);
      expect(run, message).toThrow(PluginError);
      expect(run, message).toThrow(message);
    }
  });
});

describe('MeshProxyPatch origins', () => {
  it("gives resources other plugins added Kuma's origin names", () => {
    const d = (name: string) => ({ typeUrl: 'x', name, body: {}, namedOnly: false }) as never;
    expect(originOf(d('meshtrace:zipkin'), 'inbound')).toBe('meshtrace');
    expect(originOf(d('meshaccesslog:opentelemetry:0'), 'outbound')).toBe('meshaccesslog');
    expect(originOf(d('_kuma:metrics:prometheus:default-backend'), 'admin')).toBe('prometheus');
    expect(originOf(d('_kuma:dynamicconfig:observability'), 'admin')).toBe('dynamic-config');
    expect(originOf(d('meshpassthrough_api.example.com_443'), 'transparent')).toBe('meshpassthrough');
    expect(originOf(d('localhost:8080'), 'inbound')).toBe('inbound');
  });
});
