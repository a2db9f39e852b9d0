import { setTimeout as sleep } from 'node:timers/promises';
import type { Fabric, FabricBucket } from '../fabric/port.ts';
import type { Logger } from 'pino';
import { decodeProxyStatus } from './status-codec.ts';
import { mirrorKv, type KvMirror } from './kv-mirror.ts';

/** Writes per second at most: a flush of thousands of proxies is spread out instead of competing with pushes at once. */
const DEFAULT_WRITES_PER_SECOND = 2000;
/**
 * A flush writes in slices, one per tick: a slice's writes leave in one socket write and are
 * awaited together, so the writes in flight are bounded by the slice (100 at the default rate)
 * and pacing costs one timer per tick, not one timer and one syscall per write.
 */
const TICK_MS = 50;
/** A slice waits at most this long for `deferWhile` (config pushes in progress) to clear. */
const MAX_DEFER_MS = 1000;

/**
 * Proxy connection status shared through a fabric bucket: gateways publish each proxy's insight
 * (its streams, with the gateway's instance id, ACK/NACK state); API servers mirror the bucket,
 * so `inspect dataplanes` shows which gateway a proxy is on. A proxy that moves to another
 * gateway is published by the new one; its old streams show as disconnected because the old
 * gateway published their close (or stopped publishing).
 *
 * Writes are coalesced per proxy. What people look for at once (a stream opened or closed, a
 * NACK) is written within `urgentMs` (500 ms); counters alone (responses sent, ACKs) wait for
 * `flushMs` (Kuma's dataplaneStatusFlushInterval, 10 s), because otherwise every config push
 * to every proxy would cost a KV write.
 */
export class StatusBoard {
  private readonly pending = new Map<string, (proxyKey: string) => Record<string, unknown> | undefined>();
  /** Raw values (own copies), parsed when read: gateways write far more often than anyone inspects. */
  private readonly mirror_ = new Map<string, Uint8Array>();
  private urgentTimer: NodeJS.Timeout | undefined;
  private lazyTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Shutting down: the last flush does not wait for pushes to settle. */
  private closing = false;
  private mirror: KvMirror | undefined;

  private constructor(
    private readonly kv: FabricBucket,
    private readonly logger: Logger,
    private readonly urgentMs: number,
    private readonly flushMs: number,
    private readonly writesPerSecond: number,
    private readonly deferWhile: () => boolean,
  ) {}

  static async open(
    fabric: Fabric,
    bucket: string,
    logger: Logger,
    opts: {
      replicas?: number;
      urgentMs?: number;
      flushMs?: number;
      writesPerSecond?: number;
      /** While this holds (the gateway is pushing configuration), a slice waits, up to a second: status yields to config. */
      deferWhile?: () => boolean;
    } = {},
  ): Promise<StatusBoard> {
    const kv = await fabric.bucket(bucket, { replicas: opts.replicas ?? 1, description: 'kuma proxy connection status by gateway' });
    return new StatusBoard(kv, logger, opts.urgentMs ?? 500, opts.flushMs ?? 10_000, opts.writesPerSecond ?? DEFAULT_WRITES_PER_SECOND, opts.deferWhile ?? (() => false));
  }

  /** Gateway side: the proxy's status changed; `read(proxyKey)` gives its insight at flush time (pass one function for all proxies). */
  changed(proxyKey: string, read: (proxyKey: string) => Record<string, unknown> | undefined, urgent = false): void {
    this.pending.set(proxyKey, read);
    if (urgent) this.urgentTimer ??= setTimeout(() => void this.flush(), this.urgentMs);
    else this.lazyTimer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes everything pending (one flush at a time, in paced slices). */
  flush(): Promise<void> {
    clearTimeout(this.urgentTimer);
    clearTimeout(this.lazyTimer);
    this.urgentTimer = this.lazyTimer = undefined;
    const batch = [...this.pending];
    this.pending.clear();
    const write = async (key: string, read: (proxyKey: string) => Record<string, unknown> | undefined) => {
      const insight = read(key);
      if (!insight) return;
      await this.kv.put(key, JSON.stringify(insight)).catch((err) => this.logger.warn({ component: 'xds-gateway', proxy: key, err: (err as Error).message }, 'cannot publish proxy status'));
    };
    const slice = Math.max(1, Math.round((this.writesPerSecond * TICK_MS) / 1000));
    this.flushing = this.flushing.then(async () => {
      for (let i = 0; i < batch.length; i += slice) {
        for (let waited = 0; waited < MAX_DEFER_MS && !this.closing && this.deferWhile(); waited += TICK_MS) await sleep(TICK_MS);
        const tick = sleep(i + slice < batch.length ? TICK_MS : 0);
        await Promise.all(batch.slice(i, i + slice).map(([key, read]) => write(key, read)));
        await tick;
      }
    });
    return this.flushing;
  }

  /** The proxy's current status in the bucket (for a gateway, which does not mirror it). */
  async read(proxyKey: string): Promise<Record<string, unknown> | undefined> {
    const e = await this.kv.get(proxyKey);
    return e && e.operation === 'PUT' && e.value.length > 0 ? decodeProxyStatus(e.value) : undefined;
  }

  /** API side: keeps a local copy of every proxy's status. Resolves once the current values are loaded. */
  async startMirror(): Promise<void> {
    this.mirror = await mirrorKv(
      this.kv,
      (e) => {
        // A copy: the value is a view into the connection's read buffer, which a kept view would hold.
        if (e.operation === 'PUT' && e.value.length > 0) this.mirror_.set(e.key, e.value.slice());
        else this.mirror_.delete(e.key);
      },
      (err) => this.logger.warn({ component: 'api-server', err: err.message }, 'stopped mirroring proxy status; inspect shows what it had mirrored until then'),
    );
  }

  get(proxyKey: string): Record<string, unknown> | undefined {
    const raw = this.mirror_.get(proxyKey);
    return raw && decodeProxyStatus(raw);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.flush().catch(() => undefined);
    this.mirror?.stop();
    await this.mirror?.done.catch(() => undefined);
  }
}
