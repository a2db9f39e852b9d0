import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { CryptoKey } from 'jose';
import { issueDataplaneToken, SIGNING_KEY_NAME, signingKeyFromPem, verificationKeyFromPem, verifyDataplaneToken, type DataplaneTokenClaims } from './dataplane-token.ts';

export const CURRENT_KEY_SERIAL = 1;

/** A new RSA-2048 signing key as the base64 `data` of a GlobalSecret (PKCS#8 PEM inside). */
export function newSigningKeySecretData(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).toString('base64');
}

/**
 * Issues and verifies dataplane tokens with the cluster's signing key, read through `lookup`
 * (the `dataplane-token-signing-key-1` GlobalSecret's data), so every replica uses the same key.
 */
export class DataplaneTokens {
  private cached: { data: string; sign: CryptoKey; verify: CryptoKey } | undefined;

  constructor(private readonly lookup: (name: string) => string | undefined) {}

  private async keys(): Promise<{ sign: CryptoKey; verify: CryptoKey }> {
    const data = this.lookup(SIGNING_KEY_NAME(CURRENT_KEY_SERIAL));
    if (!data) throw new Error('the dataplane token signing key does not exist yet');
    if (this.cached?.data !== data) {
      const pem = Buffer.from(data, 'base64').toString('utf8');
      const pub = (createPublicKey(pem) as KeyObject).export({ type: 'spki', format: 'pem' }) as string;
      this.cached = { data, sign: await signingKeyFromPem(pem), verify: await verificationKeyFromPem(pub) };
    }
    return this.cached;
  }

  async issue(claims: { name: string; mesh: string; tags: Record<string, string[]>; type: DataplaneTokenClaims['Type'] }, validForSeconds: number): Promise<string> {
    return issueDataplaneToken((await this.keys()).sign, CURRENT_KEY_SERIAL, claims, validForSeconds);
  }

  async verify(token: string, proxy: { mesh: string; name: string }): Promise<DataplaneTokenClaims> {
    return verifyDataplaneToken((await this.keys()).verify, token, proxy);
  }
}
