import { LRUCache } from 'lru-cache';
import type { StoredEvent } from '../event-log/event.ts';
import type { EventLog } from '../event-log/port.ts';
import { decodeCheckpoint, type CheckpointMeta, type CheckpointStore } from './checkpoint.ts';
import { CurrentState } from './current-state.ts';

/** A point in the log that cannot be answered: in the future, before the log, or malformed. */
export class PointError extends Error {
  override readonly name = 'PointError';
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The sequence or RFC 3339 time a client wrote, before resolution. */
export type Point = { readonly seq: number } | { readonly time: number; readonly text: string };

/** Parses `at` as a sequence number or an RFC 3339 time. */
export function parsePoint(raw: string): Point {
  if (/^\d{1,15}$/.test(raw)) return { seq: Number(raw) };
  if (RFC3339.test(raw)) {
    const time = Date.parse(raw);
    if (!Number.isNaN(time)) return { time, text: raw };
  }
  throw new PointError(`"${raw}" is neither a sequence number nor an RFC 3339 time (e.g. 2026-11-24T10:00:00Z)`);
}

/**
 * Reads the log as it was: resolves points (sequence or time) and materialises the state at
 * any sequence from the nearest checkpoint at or before it plus the events after that.
 * Materialised states are immutable and kept in a small LRU, so paging through a past list
 * does not replay again.
 */
export class StateHistory {
  private readonly states = new LRUCache<number, Promise<CurrentState>>({ max: 4 });
  private checkpointList: { at: number; metas: Promise<CheckpointMeta[]> } | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly checkpoints: CheckpointStore | undefined,
    /** The live state: answers for the current position without replay. */
    private readonly live: () => CurrentState,
  ) {}

  /**
   * The sequence a point stands for: a sequence as given, a time as the last event at or before
   * it. Refuses points after the head or the present, and before the first retained event.
   * Times assume event times grow with sequence (replicas' clocks in sync).
   */
  async resolve(raw: string): Promise<number> {
    const point = parsePoint(raw);
    const { first, head } = await this.bounds();
    if ('seq' in point) {
      if (point.seq > head) throw new PointError(`sequence ${point.seq} is in the future: the log's head is ${head}`);
      if (point.seq < first) throw new PointError(`sequence ${point.seq} is before the start of the log (its first event is ${first})`);
      return point.seq;
    }
    if (point.time > Date.now()) throw new PointError(`${point.text} is in the future`);
    const seq = await this.seqAtOrBefore(point.time, { first, head });
    if (seq < first) {
      const firstEvent = await this.eventAt(first);
      throw new PointError(`${point.text} is before the start of the log${firstEvent ? ` (its first event is at ${firstEvent.time})` : ' (it is empty)'}`);
    }
    return seq;
  }

  /**
   * The last sequence whose event time is at or before `time` (ms), or first - 1 when none is.
   * Binary search; pass the log's bounds when the caller already read them.
   */
  async seqAtOrBefore(time: number, bounds?: { readonly first: number; readonly head: number }): Promise<number> {
    const { first, head } = bounds ?? (await this.bounds());
    let lo = first - 1;
    let hi = head;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const e = await this.eventAt(mid);
      if (e && Date.parse(e.time) <= time) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private async bounds(): Promise<{ first: number; head: number }> {
    const [first, head] = await Promise.all([this.log.first(), this.log.head()]);
    return { first, head };
  }

  private async eventAt(seq: number): Promise<StoredEvent | undefined> {
    for await (const e of this.log.read(seq, seq)) return e;
    return undefined;
  }

  /** The state as of `seq` (resolved by `resolve`). Do not mutate it. */
  stateAt(seq: number): Promise<CurrentState> {
    const live = this.live();
    if (seq === live.position) return Promise.resolve(live);
    let p = this.states.get(seq);
    if (!p) {
      p = this.materialise(seq);
      this.states.set(seq, p);
      p.catch(() => this.states.delete(seq));
    }
    return p;
  }

  private async materialise(seq: number): Promise<CurrentState> {
    const base = (await this.checkpointsUpTo(seq)).at(-1);
    let state = new CurrentState();
    if (base) {
      const data = await this.checkpoints!.load(base.seq);
      if (data) state = await decodeCheckpoint(base, data, this.checkpoints!.codec).catch(() => new CurrentState());
    }
    for await (const e of this.log.read(state.position + 1, seq)) state.apply(e);
    return state;
  }

  private async checkpointsUpTo(seq: number): Promise<CheckpointMeta[]> {
    if (!this.checkpoints) return [];
    if (!this.checkpointList || Date.now() - this.checkpointList.at > 5000) {
      this.checkpointList = { at: Date.now(), metas: this.checkpoints.list() };
    }
    return (await this.checkpointList.metas).filter((m) => m.seq <= seq);
  }
}
