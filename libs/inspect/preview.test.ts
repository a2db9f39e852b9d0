import { describe, expect, it } from 'vitest';
import { TypeUrl } from '../xds/protos.ts';
import { Translator } from '../xds/translator.ts';
import { redactConfig } from './config-json.ts';
import { diffConfigs, previewImpact, proxyConfig } from './preview.ts';
import { stateOf } from '../testkit/state-of.ts';
import { meshViewsOf } from './views.ts';

describe('diffConfigs', () => {
  it('lists added, removed and changed resources, with a JSON patch for changed ones', () => {
    const before = { [TypeUrl.Cluster]: { a: { name: 'a', connect_timeout: '5s' }, b: { name: 'b' } } };
    const after = { [TypeUrl.Cluster]: { a: { name: 'a', connect_timeout: '7s' }, c: { name: 'c' } }, [TypeUrl.Listener]: { l: { name: 'l' } } };
    expect(diffConfigs(before, after)).toEqual([
      { typeUrl: TypeUrl.Cluster, name: 'a', op: 'changed', patch: [{ op: 'replace', path: '/connect_timeout', value: '7s' }] },
      { typeUrl: TypeUrl.Cluster, name: 'b', op: 'removed' },
      { typeUrl: TypeUrl.Cluster, name: 'c', op: 'added' },
      { typeUrl: TypeUrl.Listener, name: 'l', op: 'added' },
    ]);
    expect(diffConfigs(before, before)).toEqual([]);
    expect(diffConfigs(undefined, { [TypeUrl.Cluster]: { a: {} } })).toEqual([{ typeUrl: TypeUrl.Cluster, name: 'a', op: 'added' }]);
  });
});

describe('redactConfig', () => {
  it('replaces the inline data of Envoy Secrets with digests, and leaves other resources alone', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIIE';
    const config = {
      [TypeUrl.Secret]: { cert: { name: 'cert', tls_certificate: { private_key: { inline_bytes: key }, certificate_chain: { inline_string: 'CHAINDATA' } } } },
      [TypeUrl.Cluster]: { a: { name: 'a', inline_string: 'not a secret' } },
    };
    const out = redactConfig(config);
    expect(JSON.stringify(out)).not.toContain(key);
    expect(JSON.stringify(out)).not.toContain('CHAINDATA');
    expect((out[TypeUrl.Secret]!['cert'] as { tls_certificate: { private_key: { inline_bytes: string } } }).tls_certificate.private_key.inline_bytes).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(out[TypeUrl.Cluster]).toBe(config[TypeUrl.Cluster]);
  });
});

describe('previewImpact', () => {
  it('diffs the proxies a change could affect, translated with and without it, and leaves the views as they were', () => {
    const resources = [
      { type: 'Mesh', name: 'default' },
      { type: 'Dataplane', mesh: 'default', name: 'web', networking: { address: '127.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }] } },
      { type: 'Dataplane', mesh: 'default', name: 'other', networking: { address: '127.0.0.2', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'other' } }], outbound: [{ port: 10001, tags: { 'kuma.io/service': 'web' } }] } },
    ];
    const state = stateOf(resources);
    const views = meshViewsOf(state, 'default', new Set());
    const translator = new Translator();
    const untouched = proxyConfig(views, 'default', 'other', translator);
    const changed = stateOf([resources[0]!, { ...resources[1]!, networking: { address: '127.0.0.9', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }], outbound: [{ port: 10001, tags: { 'kuma.io/service': 'other' } }] } }]);
    const change = { type: 'Dataplane', mesh: 'default', name: 'web', before: state.get({ type: 'Dataplane', mesh: 'default', name: 'web' }), after: changed.get({ type: 'Dataplane', mesh: 'default', name: 'web' }) };
    const impact = previewImpact(views, change, translator);
    // web itself, and other, which consumes web (its endpoint moved to 127.0.0.9).
    expect(impact.map((p) => [p.name, p.changed])).toEqual([
      ['other', true],
      ['web', true],
    ]);
    expect(impact[1]!.changes).toContainEqual({ typeUrl: TypeUrl.Cluster, name: 'other', op: 'added' });
    expect(JSON.stringify(impact[0]!.changes)).toContain('127.0.0.9');
    expect(proxyConfig(views, 'default', 'other', translator)).toEqual(untouched);
  });
});
