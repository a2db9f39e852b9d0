import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT, errors as joseErrors, type CryptoKey } from 'jose';
import { InvalidTokenError } from './dataplane-token.ts';
import { KeyPairCache } from './signing-keys.ts';

/** Kuma's user token claims (RS256 JWT): who, and which groups. */
export interface UserTokenClaims {
  readonly Name: string;
  readonly Groups: readonly string[];
  readonly jti: string;
  readonly exp: number;
}

export const USER_TOKEN_SIGNING_KEY_NAME = (serial: number) => `user-token-signing-key-${serial}`;
export const USER_TOKEN_KEY_SERIAL = 1;
/** Kuma's GlobalSecret with the admin's user token, created on first start. */
export const ADMIN_USER_TOKEN_SECRET = 'admin-user-token';
export const ADMIN_USER = 'mesh-system:admin';
export const GROUPS = { admin: 'mesh-system:admin', authenticated: 'mesh-system:authenticated', unauthenticated: 'mesh-system:unauthenticated' } as const;

/** Issues and verifies user tokens with the cluster's user-token signing key (a GlobalSecret, read through `lookup`). */
export class UserTokens {
  private readonly cached = new KeyPairCache<number>();

  constructor(private readonly lookup: (name: string) => string | undefined) {}

  private async keys(): Promise<{ sign: CryptoKey; verify: CryptoKey }> {
    const data = this.lookup(USER_TOKEN_SIGNING_KEY_NAME(USER_TOKEN_KEY_SERIAL));
    if (!data) throw new Error('the user token signing key does not exist yet');
    return this.cached.get(USER_TOKEN_KEY_SERIAL, data);
  }

  async issue(name: string, groups: readonly string[], validForSeconds: number): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ Name: name, Groups: [...groups] })
      .setProtectedHeader({ alg: 'RS256', kid: String(USER_TOKEN_KEY_SERIAL) })
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now - 60)
      .setExpirationTime(now + Math.max(1, Math.floor(validForSeconds)))
      .sign((await this.keys()).sign);
  }

  /** The token's claims; throws InvalidTokenError (expired, tampered, not a user token). */
  async verify(token: string): Promise<UserTokenClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, (await this.keys()).verify, { algorithms: ['RS256'] }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new InvalidTokenError('user token expired');
      throw new InvalidTokenError(`invalid user token: ${(err as Error).message}`);
    }
    if (typeof payload['Name'] !== 'string' || payload['Name'] === '' || !Array.isArray(payload['Groups'])) throw new InvalidTokenError('invalid user token: not a user token (Name and Groups required)');
    return payload as unknown as UserTokenClaims;
  }
}
