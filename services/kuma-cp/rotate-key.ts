import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { VersionConflictError } from '../../libs/event-log/errors.ts';
import type { NewEvent } from '../../libs/event-log/event.ts';
import type { KumaCpConfig } from '../../libs/platform/config.ts';
import { loadLatestCheckpoint } from '../../libs/projection/checkpointer.ts';
import { encodeCheckpoint } from '../../libs/projection/checkpoint.ts';
import { LiveProjection } from '../../libs/projection/live-projection.ts';
import { fullRegistry } from '../../libs/policies/registry.ts';
import { EncryptingEventLog } from '../../libs/secrets/encrypting-log.ts';
import { generateKeyFile, loadKeyFile, writeKeyFile } from '../../libs/secrets/key-file.ts';
import { Keyring, parseKeyFile } from '../../libs/secrets/keyring.ts';
import { SealingCheckpointStore } from '../../libs/secrets/sealing-checkpoints.ts';
import { SpecSealer } from '../../libs/secrets/sealer.ts';
import { openCheckpointStore, openEventLog } from './store.ts';
import { KEY_FILE_SETTING, keyFileOf, StoreEncryptionError } from './store-encryption.ts';

export interface RotationReport {
  readonly keyFile: string;
  readonly primary: string;
  /** Every key id now in the keyring, the new primary first. */
  readonly keys: readonly string[];
  /** Confidential resources that got a new version sealed under the new primary. */
  readonly reencrypted: readonly string[];
  /** Confidential resources already sealed under it (an earlier, interrupted run). */
  readonly alreadyCurrent: number;
  /** The checkpoint saved afterwards (its position), so a start needs no older key. */
  readonly checkpoint: number | null;
}

/**
 * `kuma-cp encryption rotate-key --new-key-file <f>`: makes the key in `f` (generated there
 * when the file does not exist) the primary of the configured keyring, keeping the older keys
 * to open older envelopes; then appends, for every current Secret and GlobalSecret not yet
 * sealed under the new key, a version with the same content sealed under it; then saves a
 * checkpoint. The keyring file is rewritten before anything is appended, so an interrupted
 * run leaves a keyring that opens everything; running it again finishes the job.
 */
export async function rotateKey(config: KumaCpConfig, newKeyFile: string, logger: Logger): Promise<RotationReport> {
  const log = logger.child({ component: 'rotate-key' });
  const keyFile = keyFileOf(config);
  if (!existsSync(keyFile)) throw new StoreEncryptionError(`${KEY_FILE_SETTING}: ${keyFile} does not exist: there is no key to rotate from`);
  const current = loadKeyFile(keyFile, { create: false }).keyring;
  const fresh = existsSync(newKeyFile) ? parseKeyFile(readFileSync(newKeyFile, 'utf8'), newKeyFile).primary : generateKeyFile(newKeyFile);
  const older = current.ids().filter((id) => id !== fresh.id).map((id) => current.get(id)!);
  const keyring = new Keyring(fresh, older);
  const registry = fullRegistry();
  const confidential = registry.all().filter((d) => d.confidential);
  const sealer = new SpecSealer(keyring, (t) => registry.find(t)?.confidential === true);
  // The log first: on the embedded store it fails while a kuma-cp holds it, before any change.
  const raw = await openEventLog(config, `rotate-key-${randomUUID().slice(0, 4)}`);
  try {
    writeKeyFile(keyFile, [fresh, ...older]);
  } catch (err) {
    await raw.close();
    throw new StoreEncryptionError(`cannot rewrite the keyring ${keyFile} (${KEY_FILE_SETTING}): ${(err as Error).message}; nothing was re-encrypted`, { cause: err });
  }
  log.info({ keyFile, primary: fresh.id, keys: keyring.ids() }, 'keyring rewritten: the new key is primary');
  let fail: (err: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const events = new EncryptingEventLog(raw, sealer, (err) =>
    fail(new StoreEncryptionError(`${err.message}: the keyring ${keyFile} (${KEY_FILE_SETTING}) lacks a key this log needs; nothing was re-encrypted`, { cause: err })),
  );
  const checkpoints = new SealingCheckpointStore(await openCheckpointStore(config, raw), sealer);
  try {
    const restored = await loadLatestCheckpoint(checkpoints, events, log);
    const projection = new LiveProjection(events, restored?.state);
    await Promise.race([projection.start(), failed]);
    await projection.stop();
    const reencrypted: string[] = [];
    let alreadyCurrent = 0;
    const actor = { subject: 'kuma-cp', source: 'system' as const, requestId: `rotate-key-${fresh.id}` };
    for (const d of confidential) {
      for (const r of projection.state.list(d.name)) {
        const key = { type: r.meta.type, ...(r.meta.mesh !== undefined ? { mesh: r.meta.mesh } : {}), name: r.meta.name };
        const latest = (await raw.history(key)).at(-1);
        if (latest?.op === 'upsert' && sealer.kidOf(latest.resource.spec) === fresh.id) {
          alreadyCurrent++;
          continue;
        }
        const event: NewEvent = {
          id: randomUUID(),
          time: new Date().toISOString(),
          actor,
          ...key,
          op: 'upsert',
          resource: { labels: r.meta.labels, creationTime: r.meta.creationTime, modificationTime: r.meta.modificationTime, spec: r.spec },
        };
        try {
          await events.append(event, { expectedVersion: r.meta.version });
        } catch (err) {
          if (err instanceof VersionConflictError) throw new StoreEncryptionError(`${d.name} "${r.meta.name}" changed while rotating: run the command again`, { cause: err });
          throw err;
        }
        reencrypted.push(`${d.name} ${r.meta.mesh !== undefined ? `${r.meta.mesh}/` : ''}${r.meta.name}`);
      }
    }
    // A checkpoint of the state now, sealed under the new key: a start loads it and needs no older key.
    const after = new LiveProjection(events, projection.state);
    await Promise.race([after.start(), failed]);
    await after.stop();
    let checkpoint: number | null = null;
    if (after.state.position > 0) {
      let clusterId = restored?.meta.clusterId;
      if (clusterId === undefined) for await (const e of raw.read(1, 1)) clusterId = e.id;
      const { meta, data } = await encodeCheckpoint(after.state, clusterId ?? '', checkpoints.codec);
      await checkpoints.save(meta, data);
      checkpoint = meta.seq;
    }
    log.info({ reencrypted: reencrypted.length, alreadyCurrent, checkpoint }, 'secrets re-encrypted under the new key');
    return { keyFile, primary: fresh.id, keys: keyring.ids(), reencrypted, alreadyCurrent, checkpoint };
  } finally {
    await checkpoints.close();
    await raw.close();
  }
}
