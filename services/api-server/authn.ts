import type { FastifyRequest } from 'fastify';

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

/** Today's only mode: nobody is authenticated. */
export const noApiAuthentication: ApiAuthenticator = { enabled: false, authenticate: async () => undefined };
