import type { FastifyRequest } from 'fastify';
import { InvalidTokenError } from '../../libs/tokens/dataplane-token.ts';
import { ADMIN_USER, GROUPS } from '../../libs/tokens/user-token.ts';
import { ApiError } from '../../libs/platform/api-errors.ts';

/** Who sent a request, once user authentication exists (Kuma's user tokens). */
export interface Principal {
  readonly name: string;
  readonly groups: readonly string[];
}

/**
 * The seam where user authentication plugs in. `authenticate` resolves the caller, or
 * `undefined` for an anonymous request; it throws (an ApiError 401) to refuse one.
 * `enabled` says whether the API authenticates at all: while it does not, the API must stay
 * on loopback and the Host header is checked against loopback and configured names
 * (DNS rebinding protection).
 */
export interface ApiAuthenticator {
  readonly enabled: boolean;
  authenticate(req: FastifyRequest): Promise<Principal | undefined>;
}

/** `KUMA_API_SERVER_AUTHN_TYPE=none`: nobody is authenticated (loopback only). */
export const noApiAuthentication: ApiAuthenticator = { enabled: false, authenticate: async () => undefined };

const principals = new WeakMap<FastifyRequest, Principal>();

/** Who the request was authenticated as (undefined without authentication). */
export function principalOf(req: FastifyRequest): Principal | undefined {
  return principals.get(req);
}

export const isLoopback = (ip: string) => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;

/** The only requests an unauthenticated caller may make: the index (version) and health. */
const OPEN = new Set(['/', '/ready', '/healthy']);

/**
 * Kuma's user token authentication (`KUMA_API_SERVER_AUTHN_TYPE=tokens`): `Authorization: Bearer
 * <user token>`, verified against the cluster's signing key. A request from localhost without a
 * token is the admin (`KUMA_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN`, on by default as in Kuma);
 * any other request without one is `mesh-system:anonymous` and may read only the index. A bad,
 * expired or tampered token is a 401 whatever the source.
 */
export class TokenApiAuthenticator implements ApiAuthenticator {
  readonly enabled = true;

  constructor(
    private readonly tokens: { verify(token: string): Promise<{ Name: string; Groups: readonly string[] }> },
    private readonly opts: { readonly localhostIsAdmin: boolean; readonly logger?: { warn(obj: object, msg: string): void } },
  ) {}

  async authenticate(req: FastifyRequest): Promise<Principal | undefined> {
    const header = req.headers['authorization'];
    let principal: Principal;
    if (header !== undefined && header !== '') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!m) throw new ApiError(401, 'Unauthenticated', 'the Authorization header must be "Bearer <user token>"');
      try {
        const claims = await this.tokens.verify(m[1]!);
        principal = { name: claims.Name, groups: [...new Set([...claims.Groups, GROUPS.authenticated])] };
      } catch (err) {
        if (!(err instanceof InvalidTokenError)) throw err;
        this.opts.logger?.warn({ component: 'api-server', address: req.ip, reason: err.message }, 'request refused: not authenticated');
        throw new ApiError(401, 'Unauthenticated', err.message);
      }
    } else if (this.opts.localhostIsAdmin && isLoopback(req.ip) && LOOPBACK_HOST.test(req.headers.host ?? '')) {
      // Only with a loopback Host: a web page that rebinds its own name to 127.0.0.1 does not get the admin.
      principal = { name: ADMIN_USER, groups: [GROUPS.admin, GROUPS.authenticated] };
    } else {
      principal = { name: 'mesh-system:anonymous', groups: [GROUPS.unauthenticated] };
      const path = req.url.split('?')[0]!;
      if (!(req.method === 'GET' && OPEN.has(path))) {
        this.opts.logger?.warn({ component: 'api-server', address: req.ip, path }, 'request refused: no user token');
        throw new ApiError(401, 'Unauthenticated', 'a user token is required: pass it as "Authorization: Bearer <token>" (kumactl config control-planes add --auth-type=tokens --auth-conf token=...)');
      }
    }
    principals.set(req, principal);
    return principal;
  }
}
