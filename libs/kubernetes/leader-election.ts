import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection (which Kuma
 * uses for its controllers): one replica holds the Lease and runs what only one may (the Pod
 * controller, the mesh defaults, the default Mesh); the others watch it. The holder renews it every
 * `retryMs`; another replica takes it over once it has seen the same record unchanged for
 * `leaseDurationMs` (measured on its own clock, so clocks need not agree) or when it is released.
 * A holder that cannot renew within `renewDeadlineMs` stops leading before anyone else may take
 * over. Every write is conditional on the Lease's resourceVersion, so two replicas never both win.
 */

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  /** This replica (its Pod name, else host and instance). */
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryMs?: number;
  readonly logger: Logger;
  /** Called on becoming leader; what it starts is stopped by `onStoppedLeading`. */
  readonly onStartedLeading: () => Promise<void>;
  readonly onStoppedLeading: () => Promise<void>;
}

type LeaseRecord = { holder: string; leaseDurationSeconds: number; acquireTime?: string; renewTime?: string; transitions: number };

/** MicroTime as the API server writes it: RFC 3339 with six fractional digits. */
const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private readonly api: k8s.CoordinationV1Api;
  private timer: NodeJS.Timeout | undefined;
  /** Steps down at the renew deadline, even while a request hangs. */
  private deadline: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private leading = false;
  /** The record last seen, and when (this replica's monotonic clock: a wall clock step moves nothing). */
  private observed: { key: string; at: number } | undefined;
  private transition: Promise<void> = Promise.resolve();
  readonly counts = { acquired: 0, lost: 0 };

  constructor(
    kc: k8s.KubeConfig,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.api = kc.makeApiClient(k8s.CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private get leaseMs(): number {
    return this.opts.leaseDurationMs ?? 15_000;
  }

  private get renewDeadlineMs(): number {
    return this.opts.renewDeadlineMs ?? (this.leaseMs * 2) / 3;
  }

  start(): void {
    this.stopped = false;
    this.ticking = this.tick();
  }

  /** Stops electing; a leader stops leading and releases the Lease, so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A renewal in flight lands (or times out) before the decision below.
    await this.ticking;
    clearTimeout(this.deadline);
    const was = this.leading;
    await this.stepDown('stopping');
    if (was) await this.release().catch((err: Error) => this.opts.logger.warn({ component: 'k8s-leader', err: err.message }, 'could not release the lease'));
  }

  /** Resolves once this replica leads (tests). */
  async leads(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.leading) {
      if (Date.now() > deadline) throw new Error(`${this.opts.identity} did not become leader within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.transition;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (err) {
      this.opts.logger.debug({ component: 'k8s-leader', err: (err as Error).message }, 'lease update failed');
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick();
    }, this.opts.retryMs ?? 2_000);
  }

  /** An API call that gives up at the renew deadline (a partition without a reset must not hold a leader). */
  private bounded<T>(p: Promise<T>): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`no answer within ${this.renewDeadlineMs} ms`)), this.renewDeadlineMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(t));
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { namespace, name, identity } = this.opts;
    const now = new Date();
    let lease: k8s.V1Lease;
    try {
      lease = await this.bounded(this.api.readNamespacedLease({ name, namespace }));
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      const started = performance.now();
      await this.bounded(this.api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: this.spec({ holder: identity, leaseDurationSeconds: Math.ceil(this.leaseMs / 1000), transitions: 0 }, now, true) } }));
      this.renewed(started);
      return;
    }
    const record = recordOf(lease);
    const key = `${record.holder}\u0000${record.renewTime ?? ''}\u0000${record.transitions}`;
    if (this.observed?.key !== key) this.observed = { key, at: performance.now() };
    if (record.holder !== identity) {
      const expired = record.holder === '' || performance.now() - this.observed.at > record.leaseDurationSeconds * 1000;
      if (!expired) {
        if (this.leading) await this.stepDown(`the lease is held by ${record.holder}`);
        return;
      }
    }
    const taking = record.holder !== identity;
    const spec = this.spec({ ...record, holder: identity, leaseDurationSeconds: Math.ceil(this.leaseMs / 1000), transitions: record.transitions + (taking ? 1 : 0) }, now, taking);
    // Conditional on the version read: a replica that wrote in between makes this a 409.
    const started = performance.now();
    await this.bounded(this.api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec } }));
    this.renewed(started);
  }

  private spec(r: LeaseRecord, now: Date, acquiring: boolean): k8s.V1LeaseSpec {
    // MicroTime strings pass client-node's serializer as they are.
    return {
      holderIdentity: r.holder,
      leaseDurationSeconds: r.leaseDurationSeconds,
      acquireTime: (acquiring ? microTime(now) : r.acquireTime) as unknown as Date,
      renewTime: microTime(now) as unknown as Date,
      leaseTransitions: r.transitions,
    };
  }

  /** A write of the Lease that began at `started` (monotonic) succeeded: leading until `started` + the renew deadline at least. */
  private renewed(started: number): void {
    if (this.stopped) return;
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => void this.stepDown('could not renew the lease in time'), Math.max(0, started + this.renewDeadlineMs - performance.now()));
    if (this.leading) return;
    this.leading = true;
    this.counts.acquired++;
    this.opts.logger.info({ component: 'k8s-leader', lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity }, 'became leader');
    // Only if still leading when its turn comes (a term can end before it starts).
    this.transition = this.transition.then(() => (this.leading ? this.opts.onStartedLeading() : undefined)).catch((err: Error) => {
      this.opts.logger.error({ component: 'k8s-leader', err: err.message }, 'could not start leading; giving the lease up');
      void this.stepDown('failed to start').then(() => this.release().catch(() => undefined));
    });
  }

  private async stepDown(why: string): Promise<void> {
    if (!this.leading) return this.transition;
    this.leading = false;
    clearTimeout(this.deadline);
    this.counts.lost++;
    this.opts.logger.warn({ component: 'k8s-leader', identity: this.opts.identity, why }, 'stopped leading');
    // At once, not after a start that may still be waiting (an informer that never lists): what it started stops.
    const stopping = this.opts.onStoppedLeading().catch((err: Error) => this.opts.logger.error({ component: 'k8s-leader', err: err.message }, 'stopping what the leader runs failed'));
    this.transition = Promise.all([this.transition, stopping]).then(() => undefined);
    return this.transition;
  }

  /** Gives the Lease up (an empty holder), if this replica still holds it. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.opts;
    const lease = await this.bounded(this.api.readNamespacedLease({ name, namespace }));
    if (recordOf(lease).holder !== identity) return;
    await this.bounded(this.api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } } }));
  }
}

function recordOf(lease: k8s.V1Lease): LeaseRecord {
  const s = lease.spec ?? {};
  return {
    holder: s.holderIdentity ?? '',
    leaseDurationSeconds: s.leaseDurationSeconds ?? 15,
    ...(s.acquireTime ? { acquireTime: String(s.acquireTime) } : {}),
    ...(s.renewTime ? { renewTime: String(s.renewTime) } : {}),
    transitions: s.leaseTransitions ?? 0,
  };
}
