import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../libs/platform/api-errors.ts';
import { allowedHostNames, hostnameOf, makeRequestGuard } from './request-guard.ts';

const req = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as FastifyRequest;
function statusOf(fn: () => void): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof ApiError) return err.status;
    throw err;
  }
}

describe('request guard', () => {
  it('takes the host name out of a Host header, IPv6 included', () => {
    expect(hostnameOf('Example.COM:5681')).toBe('example.com');
    expect(hostnameOf('[::1]:5681')).toBe('::1');
    expect(hostnameOf('::1')).toBe('::1');
    expect(hostnameOf('127.0.0.1')).toBe('127.0.0.1');
  });

  it('allows loopback, the bound interface and configured names; a wildcard adds the machine\'s addresses', () => {
    const bound = allowedHostNames({ boundInterface: '10.1.2.3', allowedHosts: ['cp.example:5681'], checkHost: true });
    expect([...bound]).toEqual(expect.arrayContaining(['localhost', '127.0.0.1', '::1', '10.1.2.3', 'cp.example']));
    expect(bound.has('evil.example')).toBe(false);
    expect(allowedHostNames({ boundInterface: '0.0.0.0', allowedHosts: [], checkHost: true }).has('127.0.0.1')).toBe(true);
  });

  it('answers 403 for a foreign Host or Origin, 415 for a write body that is not JSON or YAML', () => {
    const guard = makeRequestGuard({ boundInterface: '127.0.0.1', allowedHosts: [], checkHost: true });
    const host = { host: '127.0.0.1:5681' };
    expect(statusOf(() => guard(req('GET', { host: 'attacker.example:5681' })))).toBe(403);
    expect(statusOf(() => guard(req('GET', { host: 'app.localhost:5681' })))).toBeUndefined();
    expect(statusOf(() => guard(req('PUT', { ...host, origin: 'http://attacker.example', 'content-type': 'application/json' })))).toBe(403);
    expect(statusOf(() => guard(req('PUT', { ...host, origin: 'http://127.0.0.1:5681', 'content-type': 'application/json' })))).toBeUndefined();
    expect(statusOf(() => guard(req('POST', { ...host, 'sec-fetch-site': 'same-site', 'content-type': 'application/json' })))).toBe(403);
    expect(statusOf(() => guard(req('POST', { ...host, 'content-type': 'text/plain' })))).toBe(415);
    expect(statusOf(() => guard(req('POST', { ...host, 'content-length': '2' })))).toBe(415);
    expect(statusOf(() => guard(req('DELETE', host)))).toBeUndefined();
    expect(statusOf(() => guard(req('PUT', { ...host, 'content-type': 'application/vnd.kuma+json; charset=utf-8' })))).toBeUndefined();
    expect(statusOf(() => guard(req('PUT', { ...host, 'content-type': 'application/x-yaml' })))).toBeUndefined();
    // With authentication (later), Host is not checked; Origin and media types still are.
    const authenticated = makeRequestGuard({ boundInterface: '0.0.0.0', allowedHosts: [], checkHost: false });
    expect(statusOf(() => authenticated(req('GET', { host: 'anything.example' })))).toBeUndefined();
  });
});
