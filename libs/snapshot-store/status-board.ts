import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

/**
 * Proxy connection status shared through a KV bucket: gateways publish each proxy's insight
 * (its streams, with the gateway's instance id, ACK/NACK state), coalesced per flush window;
 * API servers mirror the bucket, so `inspect dataplanes` shows which gateway a proxy is on.
 * A proxy that moves to another gateway is published by the new one; its old streams show
 * as disconnected because the old gateway published their close (or stopped publishing).
 */
export class StatusBoard {
  private readonly pending = new Map<string, () => Record<string, unknown> | undefined>();
  private readonly mirror_ = new Map<string, Record<string, unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private watching: Promise<void> | undefined;
  private stopWatch: (() => void) | undefined;

  private constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
    private readonly flushMs: number,
  ) {}

  static async open(nc: NatsConnection, bucket: string, logger: Logger, opts: { replicas?: number; flushMs?: number } = {}): Promise<StatusBoard> {
    const kv = await new Kvm(nc).create(bucket, { history: 1, replicas: opts.replicas ?? 1, description: 'kuma proxy connection status by gateway' });
    return new StatusBoard(kv, logger, opts.flushMs ?? 500);
  }

  /** Gateway side: the proxy's status changed; `read` gives its insight at flush time. */
  changed(proxyKey: string, read: () => Record<string, unknown> | undefined): void {
    this.pending.set(proxyKey, read);
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  async flush(): Promise<void> {
    this.timer = undefined;
    const batch = [...this.pending];
    this.pending.clear();
    await Promise.all(
      batch.map(async ([key, read]) => {
        const insight = read();
        if (!insight) return;
        await this.kv.put(key, JSON.stringify(insight)).catch((err) => this.logger.warn({ component: 'xds-gateway', proxy: key, err: (err as Error).message }, 'cannot publish proxy status'));
      }),
    );
  }

  /** API side: keeps a local copy of every proxy's status. Resolves once the current values are loaded. */
  async startMirror(): Promise<void> {
    const iter = await this.kv.watch({ key: '>' });
    this.stopWatch = () => iter.stop();
    let loaded!: () => void;
    const ready = new Promise<void>((r) => (loaded = r));
    this.watching = (async () => {
      for await (const e of iter) {
        if (e.operation === 'PUT' && e.value.length > 0) this.mirror_.set(e.key, JSON.parse(e.string()) as Record<string, unknown>);
        else this.mirror_.delete(e.key);
        if (e.delta === 0) loaded();
      }
    })();
    if ((await this.kv.status()).values === 0) loaded();
    await Promise.race([ready, new Promise((r) => setTimeout(r, 5000))]);
  }

  get(proxyKey: string): Record<string, unknown> | undefined {
    return this.mirror_.get(proxyKey);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.flush().catch(() => undefined);
    this.stopWatch?.();
    await this.watching?.catch(() => undefined);
  }
}
