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
import { EventLogUnavailableError, EventTooLargeError, VersionConflictError } from './errors.ts';
import { DEDUP_WINDOW_MS, type AppendOptions, type EventLog, type Subscription } from './port.ts';
import { resourceSubject } from './subject.ts';

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
  /** Connection name shown by the NATS server. */
  readonly name?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isTransient(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return false;
  const e = err as { name?: string; code?: string; message?: string };
  return /timeout|no responders|disconnect|closed|connection|503/i.test(`${e.name} ${e.code} ${e.message}`);
}

function decode(m: { seq: number; data: Uint8Array }): StoredEvent {
  return { ...(JSON.parse(new TextDecoder().decode(m.data)) as NewEvent), seq: m.seq };
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
    const nc =
      existing ??
      (await connect({
        servers: opts.servers.split(',').map((s) => s.trim()),
        name: opts.name ?? 'kuma-cp',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        waitOnFirstConnect: true,
      }));
    const stream = opts.stream ?? 'KUMA_EVENTS';
    const prefix = opts.subjectPrefix ?? 'kuma.events';
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    const config = {
      name: stream,
      subjects: [`${prefix}.>`],
      num_replicas: opts.replicas ?? 1,
      duplicate_window: DEDUP_WINDOW_MS * 1_000_000,
      allow_direct: true,
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
    const subject = resourceSubject(event);
    const data = this.encoder.encode(JSON.stringify(event));
    const limit = this.nc.info?.max_payload ?? 1024 * 1024;
    if (data.length > limit - 1024) throw new EventTooLargeError(data.length, limit - 1024);
    const deadline = Date.now() + this.appendTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await this.js.publish(`${this.prefix}.${subject}`, data, {
          msgID: event.id,
          ...(options.expectedVersion !== undefined ? { expect: { lastSubjectSequence: options.expectedVersion } } : {}),
          timeout: 5000,
        });
        if (ack.duplicate) return await this.get(ack.seq);
        return { ...event, seq: ack.seq } as StoredEvent;
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) {
          throw new VersionConflictError(subject, options.expectedVersion ?? 0, undefined, { cause: err });
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

  async *read(from: number, to?: number): AsyncIterable<StoredEvent> {
    const info = await this.jsm.streams.info(this.stream);
    const end = Math.min(to ?? info.state.last_seq, info.state.last_seq);
    const start = Math.max(from, info.state.first_seq, 1);
    if (start > end) return;
    const consumer = await this.js.consumers.get(this.stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: start,
    });
    const messages = await consumer.consume({ max_messages: 1000 });
    try {
      for await (const m of messages) {
        if (m.seq > end) break;
        yield decode(m);
        if (m.seq >= end) break;
      }
    } finally {
      await messages.close().catch(() => undefined);
    }
  }

  follow(from: number, handler: (event: StoredEvent) => void): Subscription {
    let next = Math.max(1, from);
    let stopped = false;
    let current: { close(): Promise<void | Error> } | undefined;
    const run = (async () => {
      for (let attempt = 0; !stopped; attempt++) {
        try {
          const consumer = await this.js.consumers.get(this.stream, {
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: next,
          });
          const messages = await consumer.consume({ max_messages: 1000 });
          current = messages;
          if (stopped) break;
          for await (const m of messages as AsyncIterable<JsMsg>) {
            if (stopped) break;
            if (m.seq < next) continue;
            next = m.seq + 1;
            attempt = 0;
            handler(decode(m));
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

  async close(): Promise<void> {
    await Promise.all([...this.subs].map((s) => s.stop()));
    if (this.ownsConnection) await this.nc.drain().catch(() => undefined);
  }
}
