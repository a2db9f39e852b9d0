import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Kek, Keyring } from './keyring.ts';

/** The algorithm tag every envelope carries; anything else is refused. */
export const ENVELOPE_ALG = 'A256GCM+A256GCMKW';

/**
 * A value sealed with envelope encryption: a fresh 256-bit data key encrypts the plaintext
 * (AES-256-GCM), and the key-encryption key `kid` wraps the data key (AES-256-GCM as well).
 * The additional authenticated data binds the ciphertext to what it belongs to (a resource's
 * identity), so an envelope copied onto another resource fails to open. All binary fields are
 * base64url. Plain JSON: it travels inside events and checkpoints.
 */
export interface Envelope {
  readonly alg: typeof ENVELOPE_ALG;
  /** Id of the key-encryption key that wrapped `dk`. */
  readonly kid: string;
  /** The wrapped data key: iv (12) | ciphertext (32) | tag (16). */
  readonly dk: string;
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

/** An envelope that cannot be opened: tampered, bound to something else, or sealed under a key not in the keyring. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    message: string,
    /** The key id of the envelope, when it has one. */
    readonly kid?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const b64 = (b: Buffer): string => b.toString('base64url');
const unb64 = (s: string): Buffer => Buffer.from(s, 'base64url');

function gcmEncrypt(key: Buffer, iv: Buffer, plaintext: Buffer, aad: Buffer): { iv: Buffer; ct: Buffer; tag: Buffer } {
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return { iv, ct, tag: c.getAuthTag() };
}

function gcmDecrypt(key: Buffer, iv: Buffer, ct: Buffer, tag: Buffer, aad: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(aad);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]);
}

/** The data key's own AAD: the algorithm and the KEK id, so a wrapped key cannot move between keys. */
const wrapAad = (kid: string) => Buffer.from(`${ENVELOPE_ALG}\u0000${kid}`);

/** Seals `plaintext` under a new data key wrapped by `kek`, bound to `aad`. */
export function seal(kek: Kek, plaintext: Buffer, aad: string): Envelope {
  // One draw for the data key and both IVs (96-bit random IVs: each key is used once, the KEK
  // well under the 2^32 messages GCM allows per key with random IVs).
  const random = randomBytes(32 + 12 + 12);
  const dataKey = random.subarray(0, 32);
  try {
    const wrapped = gcmEncrypt(kek.key, random.subarray(32, 44), dataKey, wrapAad(kek.id));
    const body = gcmEncrypt(dataKey, random.subarray(44, 56), plaintext, Buffer.from(aad));
    return {
      alg: ENVELOPE_ALG,
      kid: kek.id,
      dk: b64(Buffer.concat([wrapped.iv, wrapped.ct, wrapped.tag])),
      iv: b64(body.iv),
      ct: b64(body.ct),
      tag: b64(body.tag),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** Whether a value has the shape of an envelope (not whether it opens). */
export function isEnvelope(v: unknown): v is Envelope {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return e['alg'] === ENVELOPE_ALG && ['kid', 'dk', 'iv', 'ct', 'tag'].every((k) => typeof e[k] === 'string');
}

/** Opens an envelope with the keyring's key `kid`, checking it was sealed for `aad`. Throws EnvelopeError. */
export function open(keyring: Keyring, envelope: Envelope, aad: string): Buffer {
  const kek = keyring.get(envelope.kid);
  if (!kek) throw new EnvelopeError(`sealed with key "${envelope.kid}", which is not in the keyring (it has ${keyring.ids().join(', ')})`, envelope.kid);
  const dk = unb64(envelope.dk);
  if (dk.length !== 12 + 32 + 16) throw new EnvelopeError('malformed wrapped data key', envelope.kid);
  let dataKey: Buffer;
  try {
    dataKey = gcmDecrypt(kek.key, dk.subarray(0, 12), dk.subarray(12, 44), dk.subarray(44), wrapAad(kek.id));
  } catch (err) {
    throw new EnvelopeError(`the data key does not unwrap with key "${kek.id}" (tampered, or a different key with the same id)`, envelope.kid, { cause: err });
  }
  try {
    return gcmDecrypt(dataKey, unb64(envelope.iv), unb64(envelope.ct), unb64(envelope.tag), Buffer.from(aad));
  } catch (err) {
    throw new EnvelopeError('the ciphertext does not authenticate: tampered, or sealed for another resource', envelope.kid, { cause: err });
  } finally {
    dataKey.fill(0);
  }
}
