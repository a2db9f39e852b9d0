import { InvalidTokenError } from '../../libs/tokens/dataplane-token.ts';
import type { DataplaneTokens } from '../../libs/tokens/signing-keys.ts';
import type { ProxyId } from './proxy-id.ts';
import { AuthenticationError } from './stream.ts';

/** Decides whether a connection may act as a proxy. */
export interface DataplaneAuthenticator {
  authenticate(proxy: ProxyId, token: string | undefined): Promise<void>;
}

/** `KUMA_DP_SERVER_AUTHN_DP_PROXY_TYPE=none`: anyone may be any proxy (loopback only). */
export const noAuthentication: DataplaneAuthenticator = { authenticate: async () => undefined };

/** `dpToken` (default): a dataplane token for the proxy's mesh (and name, when the token names one). */
export class TokenAuthenticator implements DataplaneAuthenticator {
  constructor(private readonly tokens: DataplaneTokens) {}

  async authenticate(proxy: ProxyId, token: string | undefined): Promise<void> {
    if (!token) throw new AuthenticationError('dataplane token is required: pass it as the "authorization" metadata (kuma-dp --dataplane-token-file)');
    try {
      await this.tokens.verify(token, proxy);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw new AuthenticationError(err.message);
      throw err;
    }
  }
}
