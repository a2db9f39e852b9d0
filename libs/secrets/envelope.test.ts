import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EnvelopeError, open, seal, type Envelope } from './envelope.ts';
import { formatKeyFile, kekOf, Keyring, parseKeyFile } from './keyring.ts';
import { SEALED, SecretDecryptionError, SpecSealer } from './sealer.ts';

const kek = () => kekOf(randomBytes(32));
const flip = (s: string, at = 3) => {
  const b = Buffer.from(s, 'base64url');
  b[at % b.length] = b[at % b.length]! ^ 1;
  return b.toString('base64url');
};

describe('envelope', () => {
  const k = kek();
  const ring = new Keyring(k);
  const aad = 'Secret/m/db-password';

  it('opens what it sealed, with a fresh data key and IV every time', () => {
    const a = seal(k, Buffer.from('hunter2'), aad);
    const b = seal(k, Buffer.from('hunter2'), aad);
    expect(open(ring, a, aad).toString()).toBe('hunter2');
    expect(a.kid).toBe(k.id);
    expect(a.ct).not.toBe(b.ct);
    expect(a.dk).not.toBe(b.dk);
    expect(JSON.stringify(a)).not.toContain(Buffer.from('hunter2').toString('base64'));
  });

  it.each(['ct', 'tag', 'iv', 'dk'] as const)('refuses a tampered %s', (field) => {
    const e = seal(k, Buffer.from('hunter2'), aad);
    const bad: Envelope = { ...e, [field]: flip(e[field]) };
    expect(() => open(ring, bad, aad)).toThrow(EnvelopeError);
  });

  it('refuses an envelope bound to another resource (wrong AAD)', () => {
    const e = seal(k, Buffer.from('hunter2'), aad);
    expect(() => open(ring, e, 'Secret/m/other')).toThrow(/sealed for another resource/);
  });

  it('refuses a keyring without the key (wrong KEK), naming the key id', () => {
    const e = seal(k, Buffer.from('hunter2'), aad);
    expect(() => open(new Keyring(kek()), e, aad)).toThrow(new RegExp(`key "${k.id}", which is not in the keyring`));
  });

  it('refuses a different key that claims the same id', () => {
    const e = seal(k, Buffer.from('hunter2'), aad);
    const impostor = new Keyring({ id: k.id, key: randomBytes(32) });
    expect(() => open(impostor, e, aad)).toThrow(/does not unwrap/);
  });

  it('opens with any key of the ring; the primary seals', () => {
    const old = kek();
    const sealedOld = seal(old, Buffer.from('x'), aad);
    const ring2 = new Keyring(k, [old]);
    expect(open(ring2, sealedOld, aad).toString()).toBe('x');
    expect(ring2.ids()).toEqual([k.id, old.id]);
  });
});

describe('key file', () => {
  it('round-trips: first line primary, base64 or hex', () => {
    const a = kek();
    const b = kek();
    const ring = parseKeyFile(formatKeyFile([a, b]), 'f');
    expect(ring.primary.id).toBe(a.id);
    expect(ring.get(b.id)?.key.equals(b.key)).toBe(true);
    expect(parseKeyFile(a.key.toString('hex'), 'f').primary.id).toBe(a.id);
  });

  it('refuses a short key and an empty file, naming the line', () => {
    expect(() => parseKeyFile('# c\nc2hvcnQ=\n', '/k')).toThrow('/k, line 2: not a 32-byte key');
    expect(() => parseKeyFile('# only a comment\n', '/k')).toThrow('/k: holds no key');
  });
});

describe('SpecSealer', () => {
  const sealer = new SpecSealer(new Keyring(kek()), (t) => t === 'Secret');
  const id = { type: 'Secret', mesh: 'm', name: 's' };

  it('seals confidential specs only, and opens them back', () => {
    const sealed = sealer.sealSpec(id, { data: 'aHVudGVyMg==' });
    expect(Object.keys(sealed)).toEqual([SEALED]);
    expect(JSON.stringify(sealed)).not.toContain('aHVudGVyMg==');
    expect(sealer.openSpec(id, sealed)).toEqual({ data: 'aHVudGVyMg==' });
    const mesh = { mtls: {} };
    expect(sealer.sealSpec({ type: 'Mesh', name: 'm' }, mesh)).toBe(mesh);
  });

  it('refuses an envelope replayed onto another secret', () => {
    const sealed = sealer.sealSpec(id, { data: 'aHVudGVyMg==' });
    expect(() => sealer.openSpec({ ...id, name: 'other' }, sealed)).toThrow(SecretDecryptionError);
    expect(() => sealer.openSpec({ ...id, mesh: 'n' }, sealed)).toThrow(/Secret "n\/s"/);
  });

  it('opens a spec stored before encryption existed as it is', () => {
    expect(sealer.openSpec(id, { data: 'cGxhaW4=' })).toEqual({ data: 'cGxhaW4=' });
  });
});
