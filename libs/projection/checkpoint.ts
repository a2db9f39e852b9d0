import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Resource } from '../resources/resource.ts';
import { CurrentState, digestOf, type StateSnapshot } from './current-state.ts';

/**
 * Turns resources into what a checkpoint may hold and back (the store encryption seals the
 * specs of confidential types). `open(seal(r))` equals `r`; both may throw on bad input.
 */
export interface CheckpointResourceCodec {
  sealResource(r: Resource): Resource;
  openResource(r: Resource): Resource;
}

/** What is known about a stored checkpoint without loading it. */
export interface CheckpointMeta {
  /** The log sequence the state is as of. */
  readonly seq: number;
  /** Time of the event at `seq`. */
  readonly time: string;
  /** When the checkpoint was written. */
  readonly savedAt: string;
  /** `digestOf` the state: checked on load and by replay-verify. */
  readonly digest: string;
  readonly resources: number;
  readonly bytes: number;
  /** Id of the log's first event (the cluster id), which a projection started from here cannot read. */
  readonly clusterId: string;
}

/**
 * Where projections keep checkpoints: the state at sequence N, so start-up and time travel
 * replay only the events after N. Adapters: memory, embedded (LevelDB beside the log) and
 * NATS (an object store bucket beside the stream). Saving the same sequence twice keeps one.
 */
export interface CheckpointStore {
  readonly kind: string;
  /** Applied to every resource on its way into (and out of) this store's checkpoints; absent: stored as they are. */
  readonly codec?: CheckpointResourceCodec;
  /** All checkpoints, oldest first. */
  list(): Promise<CheckpointMeta[]>;
  save(meta: CheckpointMeta, data: Uint8Array): Promise<void>;
  load(seq: number): Promise<Uint8Array | undefined>;
  delete(seq: number): Promise<void>;
  close(): Promise<void>;
}

/** A checkpoint's content does not match its digest, or cannot be decoded. */
export class CorruptCheckpointError extends Error {
  override readonly name = 'CorruptCheckpointError';
}

const FORMAT = 1;

/** Encodes a state for a checkpoint: gzip'ed JSON. Returns the meta to store with it. */
export async function encodeCheckpoint(state: CurrentState, clusterId: string, codec?: CheckpointResourceCodec): Promise<{ meta: CheckpointMeta; data: Uint8Array }> {
  const snapshot = state.snapshot();
  const digest = digestOf(state.fingerprints());
  const stored = codec ? { ...snapshot, resources: snapshot.resources.map((r) => codec.sealResource(r)) } : snapshot;
  const data = await promisify(gzip)(Buffer.from(JSON.stringify({ format: FORMAT, digest, clusterId, ...stored })));
  return {
    meta: {
      seq: snapshot.position,
      time: snapshot.positionTime,
      savedAt: new Date().toISOString(),
      digest,
      resources: snapshot.resources.length,
      bytes: data.length,
      clusterId,
    },
    data,
  };
}

/** Decodes a checkpoint and checks it against its digest. Errors of `codec` (a secret that does not decrypt) pass through. */
export async function decodeCheckpoint(meta: CheckpointMeta, data: Uint8Array, codec?: CheckpointResourceCodec): Promise<CurrentState> {
  let parsed: StateSnapshot & { format: number; digest: string };
  try {
    parsed = JSON.parse((await promisify(gunzip)(data)).toString('utf8'));
  } catch (err) {
    throw new CorruptCheckpointError(`checkpoint at ${meta.seq} cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
  if (parsed.format !== FORMAT) throw new CorruptCheckpointError(`checkpoint at ${meta.seq} has unknown format ${parsed.format}`);
  if (!Array.isArray(parsed.resources)) throw new CorruptCheckpointError(`checkpoint at ${meta.seq} holds no resource list`);
  const resources = codec ? parsed.resources.map((r) => codec.openResource(r)) : parsed.resources;
  let state: CurrentState;
  try {
    state = CurrentState.fromSnapshot({ ...parsed, resources });
  } catch (err) {
    throw new CorruptCheckpointError(`checkpoint at ${meta.seq} cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
  const digest = digestOf(state.fingerprints());
  if (digest !== meta.digest || parsed.position !== meta.seq) {
    throw new CorruptCheckpointError(`checkpoint at ${meta.seq} does not match its digest (${digest} != ${meta.digest})`);
  }
  return state;
}

/**
 * The retention policy: keep the newest `keep` checkpoints, and of the older ones the first in
 * every `archiveEvery` events of the log (0: none). Returns the sequences to delete.
 */
export function checkpointsToPrune(all: readonly CheckpointMeta[], policy: { keep: number; archiveEvery: number }): number[] {
  const sorted = [...all].sort((a, b) => a.seq - b.seq);
  const older = sorted.slice(0, Math.max(0, sorted.length - Math.max(1, policy.keep)));
  const keptBuckets = new Set<number>();
  const out: number[] = [];
  for (const c of older) {
    const bucket = policy.archiveEvery > 0 ? Math.floor(c.seq / policy.archiveEvery) : -1;
    if (bucket >= 0 && !keptBuckets.has(bucket)) keptBuckets.add(bucket);
    else out.push(c.seq);
  }
  return out;
}

/** Checkpoints in memory: for `KUMA_STORE_TYPE=memory` (time travel) and tests. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly kind = 'memory';
  private readonly items = new Map<number, { meta: CheckpointMeta; data: Uint8Array }>();

  async list(): Promise<CheckpointMeta[]> {
    return [...this.items.values()].map((i) => i.meta).sort((a, b) => a.seq - b.seq);
  }
  async save(meta: CheckpointMeta, data: Uint8Array): Promise<void> {
    this.items.set(meta.seq, { meta, data });
  }
  async load(seq: number): Promise<Uint8Array | undefined> {
    return this.items.get(seq)?.data;
  }
  async delete(seq: number): Promise<void> {
    this.items.delete(seq);
  }
  async close(): Promise<void> {}
}
