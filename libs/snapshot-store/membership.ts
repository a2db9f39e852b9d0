import { createHash } from 'node:crypto';
import type { Fabric, FabricSubscription } from '../fabric/port.ts';
import type { Logger } from 'pino';

/**
 * Rendezvous (highest random weight) hashing: the owner of a key is the member with the
 * highest hash of (member, key). Every member computes the same owner from the same member
 * set, and when a member joins or leaves only the keys it gains or held move.
 */
export function ownerOf(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = '';
  for (const m of members) {
    const score = createHash('sha1').update(m).update('\u0000').update(key).digest('hex');
    if (best === undefined || score > bestScore) {
      best = m;
      bestScore = score;
    }
  }
  return best;
}

export interface MembershipOptions {
  /** Subject prefix, shared by the cluster (one per event stream). */
  readonly subject: string;
  readonly heartbeatMs?: number;
  /** A member not heard from for this long is gone. */
  readonly timeoutMs?: number;
  /** Who the members are, for logs (`projector` unless told; gateways have a membership too). */
  readonly role?: 'projector' | 'gateway';
}

/**
 * Live projector (or gateway) membership over the fabric's messages: every member publishes a heartbeat, and every
 * member keeps the set of those heard from within the timeout. When a member stops cleanly it
 * says goodbye, so its share moves at once; when it dies, its share moves after the timeout.
 * Shares are `ownerOf(key, members)`. While the sets of two members differ (for up to one
 * heartbeat), a proxy may have two owners: both write the same content-addressed manifest, and
 * the manifest store keeps the newest position, so that is harmless.
 */
export class Membership {
  private readonly seen = new Map<string, number>();
  private members_: string[] = [];
  private sub: FabricSubscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(members: readonly string[]) => void>();

  constructor(
    private readonly fabric: Fabric,
    readonly self: string,
    private readonly opts: MembershipOptions,
    private readonly logger: Logger,
  ) {}

  get members(): readonly string[] {
    return this.members_;
  }

  owns(key: string): boolean {
    return ownerOf(key, this.members_) === this.self;
  }

  onChange(fn: (members: readonly string[]) => void): void {
    this.listeners.add(fn);
  }

  /** Joins, and waits long enough to have heard the current members. */
  async start(): Promise<void> {
    const hb = this.opts.heartbeatMs ?? 1000;
    this.sub = this.fabric.subscribe(this.opts.subject, (subject) => {
      const [kind, id] = [subject.split('.').at(-2), subject.split('.').at(-1)];
      if (!id) return;
      if (kind === 'bye') this.seen.delete(id);
      else this.seen.set(id, Date.now());
      this.recompute();
    });
    this.seen.set(this.self, Date.now());
    const beat = () => this.fabric.publish(`${this.opts.subject}.hb.${this.self}`);
    beat();
    this.timer = setInterval(() => {
      beat();
      this.recompute();
    }, hb);
    this.timer.unref();
    await new Promise((r) => setTimeout(r, hb * 1.5));
    this.recompute(true);
  }

  private recompute(force = false): void {
    const timeout = this.opts.timeoutMs ?? (this.opts.heartbeatMs ?? 1000) * 3;
    const now = Date.now();
    for (const [id, at] of this.seen) if (id !== this.self && now - at > timeout) this.seen.delete(id);
    this.seen.set(this.self, now);
    const next = [...this.seen.keys()].sort();
    if (!force && next.join(',') === this.members_.join(',')) return;
    const before = this.members_;
    this.members_ = next;
    const role = this.opts.role ?? 'projector';
    this.logger.info({ component: role === 'gateway' ? 'xds-gateway' : 'projector', self: this.self, members: next, before }, `${role} membership changed`);
    for (const fn of this.listeners) fn(next);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.fabric.publish(`${this.opts.subject}.bye.${this.self}`);
    await this.fabric.flush().catch(() => undefined);
    this.sub?.unsubscribe();
  }
}
