import type { EventLog } from '../event-log/port.ts';
import type { CheckpointStore } from './checkpoint.ts';
import { CurrentState, digestOf } from './current-state.ts';

export interface VerifyProgress {
  /** Sequence of the last event replayed. */
  readonly seq: number;
  /** The position being verified (the live state's when verification started). */
  readonly to: number;
  readonly events: number;
}

export interface VerifyDifference {
  readonly subject: string;
  /** The fingerprint in the live state (undefined: absent there). */
  readonly live?: string;
  readonly rebuilt?: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly position: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly liveDigest: string;
  readonly rebuiltDigest: string;
  /** Checkpoints passed on the way, each compared with the rebuilt state at its sequence. */
  readonly checkpoints: readonly { readonly seq: number; readonly ok: boolean }[];
  readonly differences: readonly VerifyDifference[];
}

/**
 * Rebuilds the current-state projection from the start of the log in a scratch state, up to
 * the live state's position at the call, and compares digests: the live one, and every stored
 * checkpoint it passes. Fingerprints of the live state are taken synchronously at the call,
 * so the comparison is exact even while the live state moves on.
 */
export async function verifyReplay(
  log: EventLog,
  live: CurrentState,
  checkpoints: CheckpointStore | undefined,
  onProgress: (p: VerifyProgress) => void = () => undefined,
  progressEvery = 25_000,
): Promise<VerifyResult> {
  const to = live.position;
  const livePrints = live.fingerprints();
  const liveDigest = digestOf(livePrints);
  const first = await log.first();
  if (first > 1) {
    throw new Error(`the log starts at sequence ${first} (retention removed older events): a replay from the beginning is not possible`);
  }
  const metas = new Map((checkpoints ? await checkpoints.list() : []).filter((m) => m.seq <= to).map((m) => [m.seq, m]));
  const checked: { seq: number; ok: boolean }[] = [];
  const scratch = new CurrentState();
  const started = process.hrtime.bigint();
  let events = 0;
  for await (const e of log.read(1, to)) {
    scratch.apply(e);
    events++;
    const meta = metas.get(e.seq);
    if (meta) checked.push({ seq: e.seq, ok: digestOf(scratch.fingerprints()) === meta.digest });
    if (events % progressEvery === 0) onProgress({ seq: e.seq, to, events });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  onProgress({ seq: scratch.position, to, events });
  const rebuiltPrints = scratch.fingerprints();
  const differences: VerifyDifference[] = [];
  for (const subject of new Set([...livePrints.keys(), ...rebuiltPrints.keys()])) {
    const a = livePrints.get(subject);
    const b = rebuiltPrints.get(subject);
    if (a !== b) differences.push({ subject, ...(a !== undefined ? { live: a } : {}), ...(b !== undefined ? { rebuilt: b } : {}) });
  }
  const rebuiltDigest = digestOf(rebuiltPrints);
  return {
    ok: rebuiltDigest === liveDigest && checked.every((c) => c.ok),
    position: to,
    events,
    seconds,
    eventsPerSecond: seconds > 0 ? Math.round(events / seconds) : events,
    liveDigest,
    rebuiltDigest,
    checkpoints: checked,
    differences: differences.sort((x, y) => (x.subject < y.subject ? -1 : 1)),
  };
}
