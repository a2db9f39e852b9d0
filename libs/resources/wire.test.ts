import { describe, expect, it } from 'vitest';
import { defaultRegistry } from './builtin.ts';
import { UnknownTypeError } from './registry.ts';
import { ValidationError, type FieldViolation } from './validation.ts';
import { decodeResource } from './wire.ts';

const registry = defaultRegistry();

function violations(body: unknown, expected = {}): FieldViolation[] {
  try {
    decodeResource(body, registry, expected);
  } catch (err) {
    if (err instanceof ValidationError) return [...err.violations];
    throw err;
  }
  return [];
}

const dp = (networking: unknown, extra: object = {}) => ({ type: 'Dataplane', mesh: 'default', name: 'dp-1', networking, ...extra });
const inbound = { port: 8080, servicePort: 80, tags: { 'kuma.io/service': 'backend', 'kuma.io/protocol': 'http' } };

describe('decodeResource', () => {
  it('accepts the contract examples', () => {
    expect(decodeResource({ type: 'Mesh', name: 'default' }, registry)).toEqual({ type: 'Mesh', name: 'default', labels: {}, spec: {} });
    const r = decodeResource(dp({ address: '10.0.0.1', inbound: [inbound] }), registry);
    expect(r).toMatchObject({ type: 'Dataplane', mesh: 'default', name: 'dp-1', spec: { networking: { address: '10.0.0.1' } } });
  });

  it.each([
    ['empty name', { type: 'Mesh', name: '' }, [{ field: 'name', reason: 'cannot be empty' }]],
    ['upper-case name', { type: 'Mesh', name: 'Default' }, [{ field: 'name', reason: expect.stringContaining('RFC 1123') }]],
    ['too long name', { type: 'Mesh', name: 'a'.repeat(254) }, [{ field: 'name', reason: 'value length must less or equal 253' }]],
    ['bad mesh ref', { ...dp({ address: '10.0.0.1', inbound: [inbound] }), mesh: 'Bad Mesh' }, [{ field: 'mesh', reason: expect.stringContaining('invalid characters') }]],
    ['no networking', { type: 'Dataplane', mesh: 'default', name: 'x' }, [{ field: 'networking', reason: 'must be defined' }]],
    ['empty address', dp({ inbound: [inbound] }), [{ field: 'networking.address', reason: "address can't be empty" }]],
    ['wildcard address', dp({ address: '0.0.0.0', inbound: [inbound] }), [{ field: 'networking.address', reason: 'must not be 0.0.0.0 or ::' }]],
    ['port 0', dp({ address: '10.0.0.1', inbound: [{ ...inbound, port: 0 }] }), [{ field: 'networking.inbound[0].port', reason: 'port must be in the range [1, 65535]' }]],
    ['servicePort too big', dp({ address: '10.0.0.1', inbound: [{ ...inbound, servicePort: 70000 }] }), [{ field: 'networking.inbound[0].servicePort', reason: 'port must be in the range [1, 65535]' }]],
    ['missing service tag', dp({ address: '10.0.0.1', inbound: [{ port: 1, tags: { version: 'v1' } }] }), [{ field: 'networking.inbound[0].tags["kuma.io/service"]', reason: 'tag has to exist' }]],
    ['bad tag value', dp({ address: '10.0.0.1', inbound: [{ port: 1, tags: { 'kuma.io/service': 'a b' } }] }), [{ field: 'networking.inbound[0].tags["kuma.io/service"]', reason: 'tag value must consist of alphanumeric characters, dots, dashes and underscores' }]],
    ['bad protocol', dp({ address: '10.0.0.1', inbound: [{ port: 1, tags: { 'kuma.io/service': 'a', 'kuma.io/protocol': 'smtp' } }] }), [{ field: 'networking.inbound[0].tags["kuma.io/protocol"]', reason: 'tag "kuma.io/protocol" has an invalid value "smtp". Allowed values: grpc, http, http2, kafka, tcp' }]],
    ['duplicate inbound', dp({ address: '10.0.0.1', inbound: [inbound, { ...inbound }] }), [{ field: 'networking.inbound[1].port', reason: 'duplicate inbound: 10.0.0.1:8080 is already used by networking.inbound[0]' }]],
    ['outbound without service', dp({ address: '10.0.0.1', inbound: [inbound], outbound: [{ port: 10001 }] }), [{ field: 'networking.outbound[0].tags', reason: 'mandatory tag "kuma.io/service" is missing' }]],
    ['unknown field', dp({ address: '10.0.0.1', inbound: [inbound], adress: 'x' }), [{ field: 'networking.adress', reason: 'unknown field' }]],
    ['name mismatch with URL', { type: 'Mesh', name: 'a' }, [{ field: 'name', reason: 'name from the URL has to be the same as in body' }], { name: 'b' }],
    ['mesh mismatch with URL', dp({ address: '10.0.0.1', inbound: [inbound] }), [{ field: 'mesh', reason: 'mesh from the URL has to be the same as in body' }], { mesh: 'other' }],
    // Like Kuma, the body is read as the URL's type, so its spec is checked as that type too.
    ['type mismatch with URL', { type: 'Mesh', name: 'a' }, [{ field: 'type', reason: 'type from the URL has to be the same as in body' }, { field: 'mesh', reason: 'cannot be empty' }, { field: 'data', reason: 'cannot be empty' }], { type: 'Secret' }],
    ['mtls backend missing', { type: 'Mesh', name: 'm', mtls: { enabledBackend: 'ca-1' } }, [{ field: 'mtls.enabledBackend', reason: 'has to be set to one of the backends in the mesh' }]],
    ['bad label', { type: 'Mesh', name: 'm', labels: { 'a b': 'c' } }, [{ field: 'labels["a b"]', reason: expect.stringMatching(/^name part must consist of alphanumeric characters/) }]],
  ] as [string, unknown, unknown, object?][])('rejects %s', (_, body, expected, url = {}) => {
    expect(violations(body, url)).toEqual(expected);
  });

  it('reports every violation at once', () => {
    expect(violations(dp({ address: '', inbound: [{ port: 0, tags: { version: 'v1' } }] })).map((v) => v.field)).toEqual([
      'networking.address',
      'networking.inbound[0].port',
      'networking.inbound[0].tags["kuma.io/service"]',
    ]);
  });

  it('accepts an outbound-only Dataplane (no inbound, no gateway), as Kuma 2.14 does', () => {
    expect(violations(dp({ address: '10.0.0.1' }))).toEqual([]);
    expect(violations(dp({ address: '10.0.0.1', inbound: [], transparentProxying: { redirectPortInbound: 15006, redirectPortOutbound: 15001 } }))).toEqual([]);
    expect(violations(dp({}))).toEqual([{ field: 'networking.address', reason: "address can't be empty" }]);
  });

  it('accepts inbounds without tags, as Kuma 2.14 does (put_dataplanes_09), but not a tag map without kuma.io/service', () => {
    expect(violations(dp({ address: '10.0.0.1', inbound: [{ port: 1234 }] }))).toEqual([]);
    expect(violations(dp({ address: '10.0.0.1', inbound: [{ port: 1234, tags: {} }] }))).toEqual([]);
    expect(violations(dp({ address: '10.0.0.1', inbound: [{ port: 1234, tags: 'web' }] })).map((v) => v.field)).toEqual([
      'networking.inbound[0].tags',
      'networking.inbound[0].tags["kuma.io/service"]',
    ]);
  });

  it('names an unknown type', () => {
    expect(() => decodeResource({ type: 'Nope', name: 'x' }, registry)).toThrow(UnknownTypeError);
  });
});
