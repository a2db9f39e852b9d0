import { describe, expect, it } from 'vitest';
import { canonicalHeaderKey } from './envoy-routes.ts';
import type { Match } from './conf.ts';
import { compareMatch, hashMatches } from './routes.ts';

describe('MeshHTTPRoute route names and order', () => {
  it("names routes as Kuma does (hashes taken from Kuma's basic.listeners golden)", () => {
    expect(hashMatches([{ path: { type: 'PathPrefix', value: '/' } }])).toBe('9Zuf5Tg79OuZcQITwBbQykxAk2u4fRKrwYn3//AL4Yo=');
    expect(hashMatches([{ path: { type: 'PathPrefix', value: '/v1' } }])).toBe('bzv64o+joRk33jfDADgGv5ar4QyONO0NEVKnoBfJW/E=');
    expect(hashMatches([{ path: { type: 'PathPrefix', value: '/v2' } }, { path: { type: 'PathPrefix', value: '/v3' } }])).toBe(
      'BRLj9+uPP4C2xD2r8YkH/x30Vn34XWSc48Fj/pHZdTw=',
    );
    expect(hashMatches([{ queryParams: [{ type: 'Exact', name: 'v1', value: 'true' }] }])).toBe('eIgW92wXHwW4jQW9ZASIi/jftgxb/u98hIBaTzIRSIw=');
  });

  it('escapes <, > and & as Go does before hashing', () => {
    const a = hashMatches([{ path: { type: 'Exact', value: '/a&b' } }]);
    expect(a).not.toBe(hashMatches([{ path: { type: 'Exact', value: '/a\\u0026b' } }]));
    expect(a).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('orders matches by Gateway API precedence: exact, longer prefix, regex, then method, more headers, more query params, no path last', () => {
    const ms: Match[] = [
      {},
      { path: { type: 'RegularExpression', value: '^/x$' } },
      { path: { type: 'PathPrefix', value: '/' } },
      { path: { type: 'PathPrefix', value: '/long/prefix' } },
      { path: { type: 'Exact', value: '/e' } },
      { path: { type: 'PathPrefix', value: '/p' }, method: 'GET' },
      { path: { type: 'PathPrefix', value: '/p' } },
      { path: { type: 'PathPrefix', value: '/p' }, headers: [{ name: 'a', value: '1' }] },
    ];
    const sorted = [...ms].sort(compareMatch);
    expect(sorted).toEqual([ms[4], ms[3], ms[5], ms[7], ms[6], ms[2], ms[1], ms[0]]);
  });

  it("canonicalises header keys as Go's http.CanonicalHeaderKey", () => {
    expect(canonicalHeaderKey('x-custom-header')).toBe('X-Custom-Header');
    expect(canonicalHeaderKey('CONTENT-type')).toBe('Content-Type');
    expect(canonicalHeaderKey('bad header')).toBe('bad header');
  });
});
