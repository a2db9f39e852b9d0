import { randomUUID } from 'node:crypto';
import { importPKCS8, importSPKI, jwtVerify, SignJWT, errors as joseErrors, type CryptoKey } from 'jose';

/** Kuma's dataplane token claims (RS256 JWT). An empty `Name` binds the token to a mesh (and tags) only. */
export interface DataplaneTokenClaims {
  readonly Name: string;
  readonly Mesh: string;
  readonly Tags: Readonly<Record<string, string[]>>;
  readonly Type: 'dataplane' | 'ingress' | 'egress';
  readonly jti: string;
  readonly exp: number;
}

export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

export const SIGNING_KEY_NAME = (serial: number) => `dataplane-token-signing-key-${serial}`;

export async function signingKeyFromPem(pkcs8: string): Promise<CryptoKey> {
  return importPKCS8(pkcs8, 'RS256');
}

export async function verificationKeyFromPem(spki: string): Promise<CryptoKey> {
  return importSPKI(spki, 'RS256');
}

export async function issueDataplaneToken(
  key: CryptoKey,
  keySerial: number,
  claims: { name: string; mesh: string; tags: Record<string, string[]>; type: DataplaneTokenClaims['Type'] },
  validForSeconds: number,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ Name: claims.name, Mesh: claims.mesh, Tags: claims.tags, Type: claims.type })
    .setProtectedHeader({ alg: 'RS256', kid: String(keySerial) })
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setNotBefore(now - 60)
    .setExpirationTime(now + Math.max(1, Math.floor(validForSeconds)))
    .sign(key);
}

/** Verifies the signature and expiry and that the token may act as `<mesh>.<name>`. */
export async function verifyDataplaneToken(key: CryptoKey, token: string, proxy: { mesh: string; name: string }): Promise<DataplaneTokenClaims> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, { algorithms: ['RS256'] }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new InvalidTokenError('dataplane token expired');
    throw new InvalidTokenError(`invalid dataplane token: ${(err as Error).message}`);
  }
  const claims = payload as unknown as DataplaneTokenClaims;
  if (claims.Type !== 'dataplane') throw new InvalidTokenError(`token of type "${String(claims.Type)}" cannot be used by a dataplane`);
  if (claims.Mesh !== proxy.mesh) throw new InvalidTokenError(`token is for mesh "${claims.Mesh}", but the proxy is in mesh "${proxy.mesh}"`);
  if (claims.Name && claims.Name !== proxy.name) throw new InvalidTokenError(`token is for dataplane "${claims.Name}", but the proxy is "${proxy.name}"`);
  return claims;
}
