import { hostname, networkInterfaces } from 'node:os';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../libs/platform/api-errors.ts';

/** Media types a write may carry: JSON (and `+json`) and YAML. */
const WRITE_MEDIA_TYPES = /^(application\/(?:[\w.+-]+\+)?json|application\/(?:x-)?yaml|text\/(?:x-)?yaml|application\/[\w.+-]+\+yaml)\s*(?:;.*)?$/i;
const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE', 'PATCH']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

export interface RequestGuardOptions {
  /** The interface the API is bound to (`127.0.0.1`, `0.0.0.0`, an address). */
  readonly boundInterface: string;
  /** Further host names (without port) that reach this API, e.g. behind a proxy. */
  readonly allowedHosts: readonly string[];
  /** Check Host (DNS rebinding): while the API has no authentication. */
  readonly checkHost: boolean;
}

/** `example.com:5681` -> `example.com`; `[::1]:5681` -> `::1`. Lower case. */
export function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.indexOf(':');
  return colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.slice(0, colon) : h;
}

export function isLoopbackAddress(host: string): boolean {
  const h = hostnameOf(host);
  return LOOPBACK_NAMES.includes(h) || h.startsWith('127.') || h === '::ffff:127.0.0.1' || h.endsWith('.localhost');
}

/** The names under which this API may be addressed: loopback, the bound interface (all addresses for a wildcard), configured ones. */
export function allowedHostNames(opts: RequestGuardOptions): Set<string> {
  const names = new Set<string>([...LOOPBACK_NAMES, ...opts.allowedHosts.map(hostnameOf)]);
  const bound = hostnameOf(opts.boundInterface);
  if (bound === '0.0.0.0' || bound === '::' || bound === '') {
    // Every address of this machine, and its own name: a rebound attacker domain is none of them.
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address.toLowerCase());
  } else names.add(bound);
  return names;
}

const forbidden = (field: string, reason: string) => new ApiError(403, 'Forbidden', reason, [{ field, reason }]);

/**
 * Browser and DNS-rebinding protection, checked before a body is read:
 * - `Host` must name this API (loopback, the bound interface, or a configured name) while the
 *   API has no authentication, so a page on a rebound domain cannot reach it;
 * - a write (PUT/POST/DELETE/PATCH) from a browser must be same-origin: `Origin`, when sent,
 *   must be this API's own, and `Sec-Fetch-Site` must not say `cross-site`/`same-site`;
 * - a write with a body carries a JSON or YAML media type (415 otherwise), which a page cannot
 *   send cross-origin without a CORS preflight that this API never grants.
 * kumactl and curl send no Origin and set `content-type` themselves.
 */
export function makeRequestGuard(opts: RequestGuardOptions): (req: FastifyRequest) => void {
  const hosts = allowedHostNames(opts);
  const hostAllowed = (host: string) => hosts.has(hostnameOf(host)) || hostnameOf(host).endsWith('.localhost');
  return (req) => {
    const host = req.headers.host;
    if (opts.checkHost && host !== undefined && !hostAllowed(host)) {
      throw forbidden('Host', `host "${host}" is not a name of this control plane (loopback, the bound interface, or apiServer.http.allowedHosts); the API has no authentication, so other names are refused (DNS rebinding)`);
    }
    if (!WRITE_METHODS.has(req.method)) return;
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let same = false;
      try {
        const o = new URL(origin);
        same = host !== undefined && o.host.toLowerCase() === host.toLowerCase() && (o.protocol === 'http:' || o.protocol === 'https:');
      } catch {
        same = false;
      }
      if (!same) throw forbidden('Origin', `cross-origin writes are refused: Origin "${origin}" is not this API's own`);
    }
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw forbidden('Sec-Fetch-Site', `cross-origin writes are refused (Sec-Fetch-Site: ${String(site)})`);
    }
    const type = req.headers['content-type'];
    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (type === undefined ? hasBody : !WRITE_MEDIA_TYPES.test(type)) {
      throw new ApiError(415, 'Unsupported Media Type', `a ${req.method} body must be JSON or YAML: set Content-Type to application/json or application/yaml${type !== undefined ? `, not ${JSON.stringify(type)}` : ''}`, [
        { field: 'Content-Type', reason: 'must be application/json (or +json) or a YAML media type (application/yaml, application/x-yaml, text/yaml)' },
      ]);
    }
  };
}
