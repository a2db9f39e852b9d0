/** Bounds on the services proxyless clients may have a gateway follow by name. */
export interface ByNameLimits {
  /** Distinct services one stream may ask for by name; names beyond are not served. */
  readonly perStream: number;
  /** Distinct services (mesh, name) the whole gateway follows by name for all its streams; a name that would exceed it is not served. */
  readonly perGateway: number;
}

/**
 * The services a gateway follows by name, held by the streams that ask for them: a service
 * counts once however many streams ask (they share one watch), and a stream can take a hold on
 * a service nobody follows yet only while fewer than `perGateway` are followed. Each watch,
 * subscription and demand key costs the gateway (and a projector) memory and KV writes, so a
 * client naming ever more services cannot grow them without bound. Pure; one per gateway.
 */
export class ByNameBudget {
  private readonly holds = new Map<string, number>();

  /** `limits` come from dpServer.maxByNameServicesPerStream / PerGateway (defaults 256 and 10,000). */
  constructor(readonly limits: ByNameLimits) {}

  /** Distinct services followed. */
  get size(): number {
    return this.holds.size;
  }

  /** Takes a hold on the service; false (and nothing held) when it is new and the gateway is at its bound. */
  acquire(mesh: string, service: string): boolean {
    const key = `${mesh}\u0000${service}`;
    const n = this.holds.get(key);
    if (n === undefined && this.holds.size >= this.limits.perGateway) return false;
    this.holds.set(key, (n ?? 0) + 1);
    return true;
  }

  /** Drops a hold `acquire` gave. */
  release(mesh: string, service: string): void {
    const key = `${mesh}\u0000${service}`;
    const n = this.holds.get(key);
    if (n === undefined) return;
    if (n <= 1) this.holds.delete(key);
    else this.holds.set(key, n - 1);
  }
}
