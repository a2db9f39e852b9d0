import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NewEvent, StoredEvent } from './event.ts';
import { decodeEvent } from './event-codec.ts';
import { BatchInterruptedError, EventLogUnavailableError, EventTooLargeError, VersionConflictError } from './errors.ts';
import { DEDUP_WINDOW_MS, type AppendOptions, type BatchItem, type EventFilter, type EventLog, type FollowFilter, type Subscription } from './port.ts';
import { escapeToken, GLOBAL_MESH_TOKEN, resourceSubject } from './subject.ts';
import { avoidRequestCancelCost } from './nats-request-cost.ts';

export interface JetStreamLogOptions {
  /** NATS URL(s), comma-separated. */
  readonly servers: string;
  readonly stream?: string;
  /** Subject prefix; resource subjects are `<prefix>.<mesh>.<type>.<name>`. */
  readonly subjectPrefix?: string;
  /** Stream replicas (3 in a clustered deployment). */
  readonly replicas?: number;
  /** How long an append keeps retrying while NATS is unreachable before failing. */
  readonly appendTimeoutMs?: number;
  /** Retention limit: events older than this are removed by the server (0 or unset: keep forever). */
  readonly maxAgeMs?: number;
  /** Connection name shown by the NATS server. */
  readonly name?: string;
}


/**
 * A NATS connection as the control plane uses them (the JetStream log's, and the fabric's beside
 * another store): reconnecting forever, waiting for the first connect.
 */
export async function connectNats(servers: string, name: string): Promise<NatsConnection> {
  avoidRequestCancelCost();
  return connect({
    servers: servers.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    // Each request would otherwise capture a stack trace up front, in case it fails: at
    // thousands of KV reads and writes a second that was a large share of a gateway's CPU.
    noAsyncTraces: true,
  });
}

/** Consumer notifications after which `follow` replaces its consumer instead of trusting the library's recovery. */
const RECREATE_ON: ReadonlySet<string> = new Set(['reset', 'consumer_not_found', 'consumer_deleted', 'stream_not_found', 'no_responders', 'heartbeats_missed']);

function isTransient(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return false;
  const e = err as { name?: string; code?: string; message?: string };
  return /timeout|no responders|disconnect|closed|connection|503/i.test(`${e.name} ${e.code} ${e.message}`);
}

function decode(m: { seq: number; data: Uint8Array }): StoredEvent {
  // JSON, as append writes (faster than proto here: test/bench/wire.ts), or a kuma_es.v1.Event.
  return { ...decodeEvent(m.data), seq: m.seq };
}

/**
 * The event log on a NATS JetStream stream.
 * - one subject per resource, so the server checks optimistic concurrency with
 *   `Nats-Expected-Last-Subject-Sequence` atomically with the append;
 * - `Nats-Msg-Id` = event id, so a retried append within the stream's duplicate window
 *   stores one message;
 * - reads and follows use ordered consumers, which resume by themselves after reconnects.
 * The stream keeps every message (no limits) unless an operator sets a retention limit.
 */
export class JetStreamEventLog implements EventLog {
  readonly kind = 'nats';
  private readonly encoder = new TextEncoder();
  private readonly subs = new Set<Subscription>();

  private constructor(
    readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly prefix: string,
    private readonly appendTimeoutMs: number,
    private readonly ownsConnection: boolean,
  ) {}

  static async open(opts: JetStreamLogOptions, existing?: NatsConnection): Promise<JetStreamEventLog> {
    avoidRequestCancelCost();
    const nc = existing ?? (await connectNats(opts.servers, opts.name ?? 'kuma-cp'));
    const stream = opts.stream ?? 'KUMA_EVENTS';
    const prefix = opts.subjectPrefix ?? 'kuma.events';
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    const config = {
      name: stream,
      subjects: [`${prefix}.>`],
      num_replicas: opts.replicas ?? 1,
      duplicate_window: DEDUP_WINDOW_MS * 1_000_000,
      allow_direct: true,
      max_age: (opts.maxAgeMs ?? 0) * 1_000_000,
    };
    try {
      await jsm.streams.info(stream);
      await jsm.streams.update(stream, config);
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) throw err;
      await jsm.streams.add(config);
    }
    return new JetStreamEventLog(nc, jetstream(nc, { timeout: 5000 }), jsm, stream, prefix, opts.appendTimeoutMs ?? 10_000, !existing);
  }

  async append(event: NewEvent, options: AppendOptions = {}): Promise<StoredEvent> {
    return this.publish(event, options.expectedVersion !== undefined ? { lastSubjectSequence: options.expectedVersion } : {});
  }

  /**
   * JetStream 2.9-2.11 has no atomic multi-message publish, so the batch is chained: each
   * publish also expects the stream's last sequence to be the previous one's. The first
   * publish expects the head read just before, so a conflict found there leaves the log as it
   * was; a write that slips in later stops the batch with BatchInterruptedError.
   */
  async appendAll(items: readonly BatchItem[]): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    let last = await this.head();
    // Check every expected version up front: a stale one fails the batch before anything is stored.
    const planned = new Map<string, number>();
    for (const [i, { event, expectedVersion }] of items.entries()) {
      const subject = resourceSubject(event);
      let current = planned.get(subject);
      if (current === undefined && expectedVersion !== undefined) {
        const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: `${this.prefix}.${subject}` }).catch(() => null);
        current = !m ? 0 : m.seq <= last ? m.seq : -1; // -1: written after the head was read
      }
      if (expectedVersion !== undefined && expectedVersion !== current) throw new VersionConflictError(subject, expectedVersion, current === -1 ? undefined : current);
      planned.set(subject, last + 1 + i);
    }
    for (const [i, { event, expectedVersion }] of items.entries()) {
      try {
        const stored = await this.publish(event, { lastSequence: last, ...(expectedVersion !== undefined ? { lastSubjectSequence: expectedVersion } : {}) });
        out.push(stored);
        last = stored.seq;
      } catch (err) {
        if (i > 0 && err instanceof VersionConflictError) throw new BatchInterruptedError(out, items.length, err.subject, { cause: err });
        throw err;
      }
    }
    return out;
  }

  private async publish(event: NewEvent, expect: { lastSequence?: number; lastSubjectSequence?: number }): Promise<StoredEvent> {
    const subject = resourceSubject(event);
    const data = this.encoder.encode(JSON.stringify(event));
    const limit = this.nc.info?.max_payload ?? 1024 * 1024;
    if (data.length > limit - 1024) throw new EventTooLargeError(data.length, limit - 1024);
    const deadline = Date.now() + this.appendTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await this.js.publish(`${this.prefix}.${subject}`, data, { msgID: event.id, expect, timeout: 5000 });
        if (ack.duplicate) return await this.get(ack.seq);
        return { ...event, seq: ack.seq } as StoredEvent;
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) {
          throw new VersionConflictError(subject, expect.lastSubjectSequence ?? 0, undefined, { cause: err });
        }
        // Retrying is safe: the same msgID makes the server store the event at most once.
        if (!isTransient(err) || Date.now() > deadline) {
          throw new EventLogUnavailableError(`append to JetStream failed: ${(err as Error).message}`, { cause: err });
        }
        await sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
  }

  private async get(seq: number): Promise<StoredEvent> {
    const m = await this.jsm.streams.getMessage(this.stream, { seq });
    if (!m) throw new EventLogUnavailableError(`event ${seq} not found in stream ${this.stream}`);
    return decode(m);
  }

  /** The subject filters for an event filter (the server does the filtering); undefined: every event. */
  private subjectFilter(f: EventFilter | undefined): string[] | undefined {
    if (!f || (f.mesh === undefined && f.type === undefined && f.name === undefined && f.types === undefined)) return undefined;
    const tok = (v: string | undefined) => (v === undefined ? '*' : escapeToken(v));
    const types = f.types === undefined ? [f.type] : f.types.filter((t) => f.type === undefined || t === f.type);
    // No type can match (types and type disjoint): a subject no event has.
    if (types.length === 0) return [`${this.prefix}.${GLOBAL_MESH_TOKEN}.%00.%00`];
    return types.map((type) => `${this.prefix}.${f.mesh === undefined ? '*' : escapeToken(f.mesh)}.${tok(type)}.${tok(f.name)}`);
  }

  /**
   * A consumer's filter for subject filters: the server filters one subject, or several from
   * nats-server 2.10 on; before that the consumer reads every event and `clientSide` says the
   * caller must drop what does not match (a follower of few types then still reads every event).
   */
  private consumerFilter(subjects: string[] | undefined): { readonly config: { filter_subjects?: string | string[] }; readonly clientSide: boolean } {
    if (subjects === undefined) return { config: {}, clientSide: false };
    if (subjects.length === 1) return { config: { filter_subjects: subjects[0]! }, clientSide: false };
    const [major = 0, minor = 0] = (this.nc.info?.version ?? '0.0').split('.').map(Number);
    return major > 2 || (major === 2 && minor >= 10) ? { config: { filter_subjects: subjects }, clientSide: false } : { config: {}, clientSide: true };
  }

  async *read(from: number, to?: number, filter?: EventFilter): AsyncIterable<StoredEvent> {
    const info = await this.jsm.streams.info(this.stream);
    const end = Math.min(to ?? info.state.last_seq, info.state.last_seq);
    const start = Math.max(from, info.state.first_seq, 1);
    if (start > end) return;
    const subject = this.subjectFilter(filter);
    if (start === end) {
      // One event (time lookups probe the log one sequence at a time): a direct get.
      const m = await this.jsm.streams.getMessage(this.stream, { seq: start }).catch(() => null);
      if (m && (subject === undefined || subject.some((s) => subjectMatches(s, m.subject)))) yield decode(m);
      return;
    }
    const { config, clientSide } = this.consumerFilter(subject);
    const consumer = await this.js.consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start, ...config });
    // With a filter the last match may be before `end`: stop when nothing more is pending.
    if ((await consumer.info(true)).num_pending === 0) return;
    const messages = await consumer.consume({ max_messages: 1000 });
    try {
      for await (const m of messages) {
        if (m.seq > end) break;
        if (!clientSide || subject!.some((s) => subjectMatches(s, m.subject))) yield decode(m);
        if (m.seq >= end || m.info.pending === 0) break;
      }
    } finally {
      await messages.close().catch(() => undefined);
    }
  }

  /**
   * Follows with an ordered consumer, but recovers it ourselves. The client library's own
   * recovery of an ordered consumer (after a server restart the consumer is gone) recreates it
   * without clearing the pull it had outstanding, so the new consumer is asked for only the few
   * messages that pull still lacked and then starves until two idle heartbeats are missed
   * (30 s or more): a replica stopped following after a nats-server restart. So on any sign of
   * trouble (a reconnect, a missing or deleted consumer, missed heartbeats, a reset) this closes
   * the consumer and creates a fresh one from the next sequence it has not delivered.
   */
  follow(from: number, handler: (event: StoredEvent) => void, filter?: FollowFilter): Subscription {
    let next = Math.max(1, from);
    const subjects = filter?.types !== undefined ? this.subjectFilter({ types: filter.types }) : undefined;
    const { config, clientSide } = this.consumerFilter(subjects);
    let stopped = false;
    let current: { close(): Promise<void | Error> } | undefined;
    const recreate = () => void current?.close().catch(() => undefined);
    const connection = this.nc.status();
    void (async () => {
      for await (const s of connection) if (s.type === 'reconnect') recreate();
    })().catch(() => undefined);
    const run = (async () => {
      for (let attempt = 0; !stopped; attempt++) {
        try {
          const consumer = await this.js.consumers.get(this.stream, {
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: next,
            ...config,
          });
          const messages = await consumer.consume({ max_messages: 1000 });
          current = messages;
          if (stopped) break;
          void (async () => {
            for await (const n of messages.status()) {
              if (RECREATE_ON.has(n.type)) {
                await messages.close().catch(() => undefined);
                break;
              }
            }
          })().catch(() => undefined);
          for await (const m of messages as AsyncIterable<JsMsg>) {
            if (stopped) break;
            if (m.seq < next) continue;
            next = m.seq + 1;
            attempt = 0;
            if (!clientSide || subjects!.some((s) => subjectMatches(s, m.subject))) handler(decode(m));
          }
        } catch {
          // The consumer could not be (re)created, e.g. while NATS restarts: retry from `next`.
        }
        if (!stopped) await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    })();
    const sub: Subscription = {
      stop: async () => {
        stopped = true;
        this.subs.delete(sub);
        (connection as { stop?(): void }).stop?.();
        await current?.close().catch(() => undefined);
        await run;
      },
    };
    this.subs.add(sub);
    return sub;
  }

  /** Reads only the resource's subject: the server filters, so the cost grows with its own history. */
  async history(key: { type: string; mesh?: string; name: string }): Promise<StoredEvent[]> {
    const subject = `${this.prefix}.${resourceSubject(key)}`;
    const last = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject }).catch(() => null);
    if (!last) return [];
    const consumer = await this.js.consumers.get(this.stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume({ max_messages: 256 });
    const out: StoredEvent[] = [];
    try {
      for await (const m of messages) {
        out.push(decode(m));
        if (m.seq >= last.seq) break;
      }
    } finally {
      await messages.close().catch(() => undefined);
    }
    return out;
  }

  async head(): Promise<number> {
    return (await this.jsm.streams.info(this.stream)).state.last_seq;
  }

  /** 1 unless the stream's retention limits removed older events. */
  async first(): Promise<number> {
    const state = (await this.jsm.streams.info(this.stream)).state;
    return state.messages === 0 ? state.last_seq + 1 : state.first_seq;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subs].map((s) => s.stop()));
    if (this.ownsConnection) await this.nc.drain().catch(() => undefined);
  }
}

/** Whether a concrete subject matches a filter of literal tokens, `*` and a trailing `>`. */
function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}
