import type { JsonObject } from '../../libs/resources/validation.ts';
import { InvalidTokenError } from '../../libs/tokens/dataplane-token.ts';
import type { DataplaneTokens } from '../../libs/tokens/signing-keys.ts';
import { REVOCATIONS_SECRET, type Revocations } from '../../libs/tokens/revocations.ts';
import { tagScopeViolation } from '../../libs/tokens/tag-scope.ts';
import type { Node } from '../../libs/xds/ads-codec.ts';
import type { ProxyId } from './proxy-id.ts';
import { AuthenticationError } from './stream.ts';

/**
 * Decides whether a connection may act as a proxy. The token is verified before anything
 * else the client sent is parsed; only then is the Dataplane (from `node`'s
 * `dataplane.resource`, or the stored one) read, to check a token bound to tags.
 */
export interface DataplaneAuthenticator {
  /** Resolves with the token's id when a token was checked (a stream then closes if it is revoked). */
  authenticate(proxy: ProxyId, token: string | undefined, node?: Node): Promise<TokenGrant | void>;
}

/** What an accepted dataplane token was: its id (`jti`), for revocation. */
export interface TokenGrant {
  readonly jti: string;
  /** The serial of the key that signed it. */
  readonly kid?: number;
}

/** `KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE=none`: anyone may be any proxy (loopback only). */
export const noAuthentication: DataplaneAuthenticator = { authenticate: async () => undefined };

/**
 * The Dataplane a proxy acts as: the one it carries in its node metadata (parsed with the
 * hardened decoder; throws AuthenticationError when invalid), else the stored one.
 */
export type DataplaneResolver = (proxy: ProxyId, node: Node | undefined) => Readonly<JsonObject> | undefined;

/** `dpToken` (default): a dataplane token for the proxy's mesh, its name when the token names one, and its tags when the token is bound to tags. */
export class TokenAuthenticator implements DataplaneAuthenticator {
  constructor(
    private readonly tokens: DataplaneTokens,
    private readonly dataplaneOf: DataplaneResolver,
    private readonly revocations?: Revocations,
  ) {}

  async authenticate(proxy: ProxyId, token: string | undefined, node?: Node): Promise<TokenGrant> {
    if (!token) throw new AuthenticationError('dataplane token is required: pass it as the "authorization" metadata (kuma-dp --dataplane-token-file)');
    let tags: Readonly<Record<string, readonly string[]>>;
    let jti: string;
    let kid: number;
    try {
      const claims = await this.tokens.verify(token, proxy);
      tags = claims.Tags ?? {};
      jti = claims.jti;
      kid = claims.kid;
    } catch (err) {
      if (err instanceof InvalidTokenError) throw new AuthenticationError(err.message);
      throw err;
    }
    if (this.revocations?.isRevoked(proxy.mesh, jti)) throw new AuthenticationError(`dataplane token ${jti} has been revoked (secret ${REVOCATIONS_SECRET(proxy.mesh)})`);
    if (Object.keys(tags).length === 0) return { jti, kid };
    const spec = this.dataplaneOf(proxy, node);
    if (!spec) throw new AuthenticationError('the token is bound to tags, but the proxy has no Dataplane to check them against (create it, or pass --dataplane-file)');
    const violation = tagScopeViolation(tags, spec);
    if (violation) throw new AuthenticationError(violation);
    return { jti, kid };
  }
}

/** Who a service account token is (the API server's TokenReview; libs/kubernetes/token-review.ts). */
export type ServiceAccountReview = (
  token: string,
) => Promise<{ readonly authenticated: true; readonly namespace: string; readonly serviceAccount: string; readonly pod?: string } | { readonly authenticated: false; readonly error: string }>;

/**
 * `serviceAccountToken` (Kubernetes mode, Kuma's default there): the proxy presents its Pod's
 * service account token. The API server says whose it is; the proxy may then be only a Dataplane
 * of a Pod of that namespace running as that service account (its `k8s.kuma.io/namespace` and
 * `k8s.kuma.io/service-account` labels, which only the control plane may write: the validating
 * webhook refuses Dataplane writes from anyone else), as Kuma's Kubernetes authenticator compares
 * the token with the Pod; and a bound token (one the kubelet projects, naming its Pod) only the
 * Dataplane of that very Pod (`<pod>.<namespace>`).
 */
export class ServiceAccountTokenAuthenticator implements DataplaneAuthenticator {
  constructor(
    private readonly review: ServiceAccountReview,
    private readonly labelsOf: (proxy: ProxyId) => Readonly<Record<string, string>> | undefined,
  ) {}

  async authenticate(proxy: ProxyId, token: string | undefined): Promise<void> {
    if (!token) throw new AuthenticationError('a service account token is required: kuma-dp sends the one at KUMA_DATAPLANE_RUNTIME_TOKEN_PATH');
    let who;
    try {
      who = await this.review(token);
    } catch (err) {
      throw new AuthenticationError(`could not review the service account token with the API server: ${(err as Error).message}`);
    }
    if (!who.authenticated) throw new AuthenticationError(`the service account token was not accepted: ${who.error}`);
    if (who.pod !== undefined && proxy.name !== `${who.pod}.${who.namespace}`) throw new AuthenticationError(`the token is bound to Pod ${who.namespace}/${who.pod}; it cannot act as Dataplane ${proxy.mesh}.${proxy.name}`);
    const labels = this.labelsOf(proxy);
    if (!labels) throw new AuthenticationError(`there is no Dataplane ${proxy.mesh}.${proxy.name}: on Kubernetes the control plane writes it for the Pod (is the Pod injected, and in mesh ${proxy.mesh}?)`);
    const ns = Object.hasOwn(labels, 'k8s.kuma.io/namespace') ? labels['k8s.kuma.io/namespace'] : undefined;
    const sa = Object.hasOwn(labels, 'k8s.kuma.io/service-account') ? labels['k8s.kuma.io/service-account'] : undefined;
    if (ns !== who.namespace) throw new AuthenticationError(`the token is of namespace ${who.namespace}, but Dataplane ${proxy.mesh}.${proxy.name} belongs to namespace ${ns ?? '(none)'}`);
    if (sa !== who.serviceAccount) throw new AuthenticationError(`the token is of service account ${who.serviceAccount}, but the Pod of Dataplane ${proxy.mesh}.${proxy.name} runs as ${sa ?? '(none)'}`);
  }
}
