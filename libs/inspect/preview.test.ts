import { describe, expect, it } from 'vitest';
import { TypeUrl } from '../xds/protos.ts';
import { Translator } from '../xds/translator.ts';
import { redactConfig } from './config-json.ts';
import { diffConfigs, impactOf } from './preview.ts';
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

describe('impactOf', () => {
  it('diffs a proxy translated before and after a change, and marks unchanged candidates', () => {
    const resources = [
      { type: 'Mesh', name: 'default' },
      { type: 'Dataplane', mesh: 'default', name: 'web', networking: { address: '127.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }] } },
      { type: 'Dataplane', mesh: 'default', name: 'other', networking: { address: '127.0.0.2', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'other' } }] } },
    ];
    const before = meshViewsOf(stateOf(resources), 'default', new Set());
    const after = meshViewsOf(stateOf(resources), 'default', new Set());
    const changed = stateOf([...resources.slice(0, 1), { ...resources[1]!, networking: { address: '127.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }], outbound: [{ port: 10001, tags: { 'kuma.io/service': 'other' } }] } }]);
    after.apply('Dataplane', 'default', 'web', changed.get({ type: 'Dataplane', mesh: 'default', name: 'web' }));
    const impact = impactOf(before, after, 'default', ['web', 'other'], new Translator());
    expect(impact.map((p) => [p.name, p.changed])).toEqual([
      ['other', false],
      ['web', true],
    ]);
    expect(impact[1]!.changes).toContainEqual({ typeUrl: TypeUrl.Cluster, name: 'other', op: 'added' });
  });
});
