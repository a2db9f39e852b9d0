import { randomUUID } from 'node:crypto';

type Counters = { responsesSent: number; responsesAcknowledged: number; responsesRejected: number };
const SHORT: Record<string, string> = {
  'type.googleapis.com/envoy.config.cluster.v3.Cluster': 'cds',
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment': 'eds',
  'type.googleapis.com/envoy.config.listener.v3.Listener': 'lds',
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration': 'rds',
};

/** One xDS stream of a proxy: Kuma's DiscoverySubscription, plus the last NACK. */
export class Subscription {
  readonly id = randomUUID();
  readonly connectTime = new Date().toISOString();
  disconnectTime: string | undefined;
  /** Epoch ms of the last response sent (formatted only when published). */
  lastUpdate: number | undefined;
  readonly total: Counters = { responsesSent: 0, responsesAcknowledged: 0, responsesRejected: 0 };
  readonly perType = new Map<string, Counters & { lastAckedVersion?: string; lastNack?: { version: string; error: string; time: string } }>();
  /** Set by the registry: called after every change, so status can be published (`urgent`: open, close, NACK). */
  notify: ((urgent: boolean) => void) | undefined;

  constructor(
    readonly controlPlaneInstanceId: string,
    readonly mode: 'sotw' | 'delta',
    readonly versions: { kumaDp?: string; envoy?: string },
  ) {}

  private type(typeUrl: string) {
    let c = this.perType.get(typeUrl);
    if (!c) this.perType.set(typeUrl, (c = { responsesSent: 0, responsesAcknowledged: 0, responsesRejected: 0 }));
    return c;
  }

  sent(typeUrl: string): void {
    this.total.responsesSent++;
    this.type(typeUrl).responsesSent++;
    this.lastUpdate = Date.now();
    this.notify?.(false);
  }

  acked(typeUrl: string, version: string): void {
    this.total.responsesAcknowledged++;
    const c = this.type(typeUrl);
    c.responsesAcknowledged++;
    c.lastAckedVersion = version;
    this.notify?.(false);
  }

  nacked(typeUrl: string, version: string, error: string): void {
    this.total.responsesRejected++;
    const c = this.type(typeUrl);
    c.responsesRejected++;
    c.lastNack = { version, error, time: new Date().toISOString() };
    this.notify?.(true);
  }

  /** Kuma's DiscoverySubscription JSON, with per-type ACK/NACK state. */
  toJSON(): Record<string, unknown> {
    const status: Record<string, unknown> = { ...(this.lastUpdate !== undefined ? { lastUpdateTime: new Date(this.lastUpdate).toISOString() } : {}), total: this.total };
    for (const [typeUrl, c] of this.perType) status[SHORT[typeUrl] ?? typeUrl] = c;
    return {
      id: this.id,
      controlPlaneInstanceId: this.controlPlaneInstanceId,
      connectTime: this.connectTime,
      ...(this.disconnectTime ? { disconnectTime: this.disconnectTime } : {}),
      status,
      version: {
        kumaDp: { version: this.versions.kumaDp ?? '' },
        envoy: { version: this.versions.envoy ?? '' },
      },
      mode: this.mode,
    };
  }
}

const KEEP = 5;
/** Proxies whose streams all closed longer ago than this are forgotten. */
const FORGET_AFTER_MS = 60 * 60 * 1000;
const PRUNE_EVERY_OPENS = 1000;

/**
 * Connection history per proxy (the last few streams), for DataplaneInsight and `inspect
 * dataplanes`. Bounded: a proxy gone for an hour is forgotten, checked every 1,000 opens.
 */
export class StreamStatusRegistry {
  private readonly byProxy = new Map<string, Subscription[]>();
  private opens = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private readonly listeners = new Set<(proxyKey: string, urgent: boolean) => void>();

  /** Called with the proxy's key whenever its status changes; `urgent` for open, close and NACK, not for counters. */
  onChange(fn: (proxyKey: string, urgent: boolean) => void): void {
    this.listeners.add(fn);
  }

  open(proxyKey: string, sub: Subscription): void {
    sub.notify = (urgent) => {
      for (const fn of this.listeners) fn(proxyKey, urgent);
    };
    if (++this.opens % PRUNE_EVERY_OPENS === 0) this.prune();
    const list = this.byProxy.get(proxyKey) ?? [];
    list.push(sub);
    if (list.length > KEEP) list.shift();
    this.byProxy.set(proxyKey, list);
    sub.notify(true);
  }

  close(sub: Subscription): void {
    sub.disconnectTime = new Date(this.now()).toISOString();
    sub.notify?.(true);
  }

  /** Forgets proxies whose every stream closed more than an hour ago. */
  prune(): void {
    const cutoff = this.now() - FORGET_AFTER_MS;
    for (const [key, subs] of this.byProxy) {
      if (subs.every((s) => s.disconnectTime !== undefined && Date.parse(s.disconnectTime) < cutoff)) this.byProxy.delete(key);
    }
  }

  get size(): number {
    return this.byProxy.size;
  }

  /** Whether any stream of the proxy is open on this gateway. */
  connected(proxyKey: string): boolean {
    return (this.byProxy.get(proxyKey) ?? []).some((s) => !s.disconnectTime);
  }

  insight(proxyKey: string): Record<string, unknown> | undefined {
    const list = this.byProxy.get(proxyKey);
    if (!list) return undefined;
    return { subscriptions: list.map((s) => s.toJSON()) };
  }
}
