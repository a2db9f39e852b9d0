import { createHash, createHmac, hkdfSync } from 'node:crypto';

/** A key-encryption key and its id (derived from the key, so the same key has the same id everywhere). */
export interface Kek {
  readonly id: string;
  readonly key: Buffer;
}

/** A key file that cannot be used: malformed, or a key of the wrong length. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

/** The id of a key: a short, one-way name (16 hex characters of a domain-separated SHA-256). */
export function kekId(key: Buffer): string {
  return createHash('sha256').update('kuma-es kek id\u0000').update(key).digest('hex').slice(0, 16);
}

export function kekOf(key: Buffer): Kek {
  if (key.length !== 32) throw new KeyFileError(`a key-encryption key is 32 bytes, got ${key.length}`);
  return { id: kekId(key), key };
}

/**
 * The key-encryption keys a process knows: the primary seals every new envelope, every key
 * opens envelopes sealed under it. Immutable.
 */
export class Keyring {
  private readonly byId: ReadonlyMap<string, Kek>;
  private readonly digestKey: Buffer;

  constructor(
    readonly primary: Kek,
    others: readonly Kek[] = [],
  ) {
    this.byId = new Map([primary, ...others].map((k) => [k.id, k]));
    this.digestKey = Buffer.from(hkdfSync('sha256', primary.key, Buffer.alloc(0), 'kuma-es secret digest v1', 32));
  }

  get(id: string): Kek | undefined {
    return this.byId.get(id);
  }

  /** Key ids, the primary first. */
  ids(): string[] {
    return [...this.byId.keys()];
  }

  /**
   * A keyed digest of secret content for display (HMAC-SHA256 under a key derived from the
   * primary KEK): equal content has equal digests in one answer, and, unlike a plain hash, a
   * guessable secret cannot be confirmed offline from it.
   */
  digest(content: string): string {
    return `hmac-sha256:${createHmac('sha256', this.digestKey).update(content).digest('hex')}`;
  }
}

/**
 * Parses a key file: one key per line, base64 (standard or url) or hex of 32 random bytes
 * (`openssl rand -base64 32`); the first key is the primary, the others only open older
 * envelopes. Blank lines and `#` comments are ignored.
 */
export function parseKeyFile(text: string, where: string): Keyring {
  const keys: Kek[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const bytes = /^[0-9a-fA-F]{64}$/.test(line) ? Buffer.from(line, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(line) ? Buffer.from(line, 'base64') : undefined;
    if (!bytes || bytes.length !== 32) throw new KeyFileError(`${where}, line ${i + 1}: not a 32-byte key in base64 or hex (make one with: openssl rand -base64 32)`);
    keys.push(kekOf(bytes));
  });
  const [primary, ...others] = keys;
  if (!primary) throw new KeyFileError(`${where}: holds no key (make one with: openssl rand -base64 32)`);
  return new Keyring(primary, others);
}

/** A key file's text for a keyring: primary first. */
export function formatKeyFile(keys: readonly Kek[]): string {
  return (
    '# kuma-es store encryption keys (KUMA_STORE_ENCRYPTION_KEY_FILE): the first seals new writes,\n' +
    '# every line opens what was sealed under it. Keep this file secret and backed up apart from the data.\n' +
    keys.map((k) => k.key.toString('base64')).join('\n') +
    '\n'
  );
}
