import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatKeyFile, KeyFileError, kekOf, parseKeyFile, type Kek, type Keyring } from './keyring.ts';

export interface LoadedKeyring {
  readonly keyring: Keyring;
  /** The file was created by this call (a new key). */
  readonly created: boolean;
  /** Others may read it, or the group may write it (group read is allowed: Kubernetes' fsGroup mounts). */
  readonly tooOpen: boolean;
}

/**
 * Reads the keyring at `path`. When the file does not exist and `create` is set, writes a new
 * random key there first (mode 0600, exclusive create: of two processes racing, one key wins).
 */
export function loadKeyFile(path: string, opts: { readonly create: boolean }): LoadedKeyring {
  let created = false;
  if (opts.create) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, formatKeyFile([kekOf(randomBytes(32))]), { mode: 0o600, flag: 'wx' });
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyFileError(`cannot create ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  let text: string;
  let mode: number;
  try {
    text = readFileSync(path, 'utf8');
    mode = statSync(path).mode;
  } catch (err) {
    throw new KeyFileError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return { keyring: parseKeyFile(text, path), created, tooOpen: (mode & 0o027) !== 0 };
}

/** Replaces the key file with `keys` (primary first), atomically, mode 0600. */
export function writeKeyFile(path: string, keys: readonly Kek[]): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, formatKeyFile(keys), { mode: 0o600, flag: 'w' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Writes a new random key to `path` (refuses to overwrite). */
export function generateKeyFile(path: string): Kek {
  const kek = kekOf(randomBytes(32));
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, formatKeyFile([kek]), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new KeyFileError(`cannot create ${path}: ${(err as Error).message}`, { cause: err });
  }
  return kek;
}
