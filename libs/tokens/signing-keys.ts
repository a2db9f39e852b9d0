import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, type CryptoKey } from 'jose';
import { InvalidTokenError, issueDataplaneToken, SIGNING_KEY_NAME, signingKeyFromPem, verificationKeyFromPem, verifyDataplaneToken, type DataplaneTokenClaims } from './dataplane-token.ts';

export const CURRENT_KEY_SERIAL = 1;

/** A new RSA-2048 signing key as the base64 `data` of a GlobalSecret (PKCS#8 PEM inside). */
export function newSigningKeySecretData(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).toString('base64');
}

/** A signing key's pair for jose, from the GlobalSecret data (base64 PKCS#8 PEM), parsed once per data. */
export class KeyPairCache<K> {
  private readonly cached = new Map<K, { data: string; sign: CryptoKey; verify: CryptoKey }>();

  async get(key: K, data: string): Promise<{ sign: CryptoKey; verify: CryptoKey }> {
    let c = this.cached.get(key);
    if (c?.data !== data) {
      const pem = Buffer.from(data, 'base64').toString('utf8');
      const pub = (createPublicKey(pem) as KeyObject).export({ type: 'spki', format: 'pem' }) as string;
      c = { data, sign: await signingKeyFromPem(pem), verify: await verificationKeyFromPem(pub) };
      this.cached.set(key, c);
    }
    return c;
  }
}

/**
 * Issues and verifies dataplane tokens with the cluster's signing keys, the GlobalSecrets
 * `dataplane-token-signing-key-<serial>` read through `lookup`, so every replica uses the same
 * keys. As Kuma: new tokens are signed with the highest serial, a token is verified with the key
 * its `kid` names, and deleting a key invalidates every token it signed (rotation: add key N+1,
 * let tokens move over, delete key N).
 */
export class DataplaneTokens {
  private readonly cached = new KeyPairCache<number>();

  constructor(
    private readonly lookup: (name: string) => string | undefined,
    /** The serials of the signing keys that exist (default: just the first). */
    private readonly serials: () => readonly number[] = () => [CURRENT_KEY_SERIAL],
  ) {}

  /** Whether the key of this serial still exists (tokens it signed are valid). */
  hasKey(serial: number): boolean {
    return this.lookup(SIGNING_KEY_NAME(serial)) !== undefined;
  }

  private async keys(serial: number): Promise<{ sign: CryptoKey; verify: CryptoKey }> {
    const data = this.lookup(SIGNING_KEY_NAME(serial));
    if (!data) throw new InvalidTokenError(`the dataplane token signing key ${serial} does not exist (deleted: tokens it signed are no longer valid)`);
    return this.cached.get(serial, data);
  }

  /** The serial new tokens are signed with: the highest that exists. */
  currentSerial(): number {
    const list = this.serials().filter((n) => this.hasKey(n));
    if (list.length === 0) throw new Error('no dataplane token signing key exists yet');
    return Math.max(...list);
  }

  async issue(claims: { name: string; mesh: string; tags: Record<string, string[]>; type: DataplaneTokenClaims['Type'] }, validForSeconds: number): Promise<string> {
    const serial = this.currentSerial();
    return issueDataplaneToken((await this.keys(serial)).sign, serial, claims, validForSeconds);
  }

  /** The claims, with `kid` (the signing key's serial); throws InvalidTokenError. */
  async verify(token: string, proxy: { mesh: string; name: string }): Promise<DataplaneTokenClaims & { readonly kid: number }> {
    let kid: number;
    try {
      kid = Number(decodeProtectedHeader(token).kid ?? CURRENT_KEY_SERIAL);
    } catch (err) {
      throw new InvalidTokenError(`invalid dataplane token: ${(err as Error).message}`);
    }
    if (!Number.isInteger(kid) || kid < 1) throw new InvalidTokenError('invalid dataplane token: kid is not a signing key serial');
    return { ...(await verifyDataplaneToken((await this.keys(kid)).verify, token, proxy)), kid };
  }
}
