import type { Logger } from 'pino';
import type { EventLog } from '../event-log/port.ts';
import { checkpointsToPrune, CorruptCheckpointError, decodeCheckpoint, encodeCheckpoint, type CheckpointMeta, type CheckpointStore } from './checkpoint.ts';
import type { CurrentState } from './current-state.ts';

export interface CheckpointPolicy {
  /** Save a checkpoint every this many events (0: never). */
  readonly interval: number;
  /** Keep this many of the newest checkpoints. */
  readonly keep: number;
  /** Of older checkpoints, keep the first of every this many events, for time travel (0: none). */
  readonly archiveEvery: number;
}

export interface CheckpointHooks {
  onSaved?(meta: CheckpointMeta, seconds: number): void;
  onFailed?(err: Error): void;
}

/** The log cannot be projected: it was truncated by retention and no checkpoint covers the gap. */
export class UncoveredLogError extends Error {
  override readonly name = 'UncoveredLogError';
}

/**
 * Loads the newest usable checkpoint for `log`: one that decodes, matches its digest, lies
 * within the log, and was made from this log (same first event). Falls back to older ones,
 * logging why; undefined when there is none, in which case the caller replays from 1.
 */
export async function loadLatestCheckpoint(
  store: CheckpointStore,
  log: EventLog,
  logger: Logger,
): Promise<{ state: CurrentState; meta: CheckpointMeta } | undefined> {
  const [all, head, first] = await Promise.all([store.list(), log.head(), log.first()]);
  let firstId: string | undefined;
  if (first === 1 && head > 0) for await (const e of log.read(1, 1)) firstId = e.id;
  for (const meta of all.reverse()) {
    const skip = (why: string) => logger.warn({ component: 'checkpoint', seq: meta.seq, why }, 'skipping checkpoint');
    if (meta.seq > head) {
      skip(`it is ahead of the log's head ${head} (a checkpoint of another log?)`);
      continue;
    }
    if (firstId !== undefined && meta.clusterId !== firstId) {
      skip('it was made from another log (cluster id differs)');
      continue;
    }
    const data = await store.load(meta.seq);
    if (!data) {
      skip('its data is gone');
      continue;
    }
    try {
      return { state: await decodeCheckpoint(meta, data, store.codec), meta };
    } catch (err) {
      // A corrupt checkpoint is skipped (the log has everything); a secret this process cannot
      // decrypt is not corruption but a wrong or missing key: that stops the start.
      if (!(err instanceof CorruptCheckpointError)) throw err;
      skip(err.message);
    }
  }
  if (first > 1) {
    throw new UncoveredLogError(
      `the log starts at sequence ${first} (older events were removed by its retention limit) and no checkpoint at or after ${first - 1} exists: the state cannot be rebuilt`,
    );
  }
  return undefined;
}

/**
 * Saves a checkpoint of the projection every `interval` events, one at a time, and prunes by
 * the retention policy after each save. The state is snapshotted synchronously when a save
 * starts, so it is exactly the state at its position.
 */
export class Checkpointer {
  private lastSaved: number;
  private saving: Promise<void> | undefined;
  private active: boolean;

  constructor(
    private readonly store: CheckpointStore,
    private readonly policy: CheckpointPolicy,
    private readonly clusterId: () => string,
    private readonly logger: Logger,
    private readonly hooks: CheckpointHooks = {},
    lastSaved = 0,
    { active = true }: { active?: boolean } = {},
  ) {
    this.lastSaved = lastSaved;
    this.active = active;
  }

  /**
   * Starts saving (for a checkpointer created inactive so that a projection catching up does
   * not checkpoint every `interval` events on its way), and saves now if one is due.
   */
  activate(state: CurrentState): void {
    this.active = true;
    this.onApplied(state);
  }

  /** Stops saving (another process took over: see PostgresLease); a save under way finishes. */
  deactivate(): void {
    this.active = false;
  }

  /** Call after each applied event. */
  onApplied(state: CurrentState): void {
    if (!this.active || this.policy.interval <= 0 || this.saving || state.position - this.lastSaved < this.policy.interval) return;
    this.saving = this.save(state).finally(() => (this.saving = undefined));
  }

  /** Saves the state now unless it is already the newest checkpoint (at shutdown). */
  async flush(state: CurrentState): Promise<void> {
    await this.saving;
    if (!this.active || this.policy.interval <= 0 || state.position <= this.lastSaved) return;
    await this.save(state);
  }

  private async save(state: CurrentState): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      const { meta, data } = await encodeCheckpoint(state, this.clusterId(), this.store.codec);
      await this.store.save(meta, data);
      this.lastSaved = meta.seq;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.hooks.onSaved?.(meta, seconds);
      this.logger.info({ component: 'checkpoint', seq: meta.seq, resources: meta.resources, bytes: meta.bytes, ms: Math.round(seconds * 1000) }, 'checkpoint saved');
      for (const seq of checkpointsToPrune(await this.store.list(), this.policy)) await this.store.delete(seq);
    } catch (err) {
      this.hooks.onFailed?.(err as Error);
      this.logger.error({ component: 'checkpoint', err }, 'saving a checkpoint failed; will retry at the next interval');
      this.lastSaved = state.position;
    }
  }
}
