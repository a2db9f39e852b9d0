import pg from 'pg';

/** What a lease holder hears: it holds the lease now, or no longer (its connection failed). */
export interface LeaseListener {
  onAcquired(): void;
  onLost(): void;
}

/**
 * A lease held by one process at a time among all that share a PostgreSQL database: a
 * session-level advisory lock on a connection of its own. The holder keeps it for as long as
 * that connection lives, so a holder that crashes or is killed loses it as soon as the server
 * sees the connection close; the others try every `retryMs` and one of them takes it over.
 * (Kuma elects its leader through a `locks` table polled by cirello.io/pglock; an advisory lock
 * needs no table and no clock.)
 */
export class PostgresLease {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private stopped = false;
  private trying: Promise<void> | undefined;

  constructor(
    private readonly config: pg.ClientConfig,
    /** The lock's key: one per singleton role sharing the database. */
    private readonly key: bigint,
    private readonly listener: LeaseListener,
    private readonly retryMs = 1000,
  ) {}

  get holding(): boolean {
    return this.held;
  }

  start(): void {
    this.schedule(0);
  }

  /** One timer at a time: a failure noticed twice (a query error, then the connection's end) schedules one attempt. */
  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => (this.trying = this.attempt().finally(() => (this.trying = undefined))), ms);
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.client) {
        const client = new pg.Client(this.config);
        client.on('error', () => this.lose(client));
        client.on('end', () => this.lose(client));
        await client.connect();
        if (this.stopped) {
          await client.end().catch(() => undefined);
          return;
        }
        this.client = client;
      }
      const r = await this.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [this.key.toString()]);
      if (r.rows[0]?.locked) {
        this.held = true;
        this.listener.onAcquired();
        this.probe(this.client);
        return; // held until the connection goes
      }
    } catch {
      // Forgotten before it ends, so its 'end' does not count as a second loss.
      const client = this.client;
      this.client = undefined;
      await client?.end().catch(() => undefined);
    }
    this.schedule(this.retryMs);
  }

  /**
   * While held, asks the server every `retryMs` x 5 whether the connection lives (a half-open
   * connection would otherwise keep this process thinking it holds the lease while the server
   * gave the lock away): a failed or slow answer loses it.
   */
  private probe(client: pg.Client): void {
    const every = this.retryMs * 5;
    const tick = () => {
      if (this.client !== client || !this.held) return;
      const timeout = setTimeout(() => this.lose(client), every);
      client.query('SELECT 1').then(
        () => {
          clearTimeout(timeout);
          this.probeTimer = setTimeout(tick, every);
          this.probeTimer.unref();
        },
        () => {
          clearTimeout(timeout);
          this.lose(client);
        },
      );
    };
    this.probeTimer = setTimeout(tick, every);
    this.probeTimer.unref();
  }
  private probeTimer: NodeJS.Timeout | undefined;

  /** The lease's connection failed: whatever it held is gone; try again. */
  private lose(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    if (this.held) {
      this.held = false;
      this.listener.onLost();
    }
    this.schedule(this.retryMs);
  }

  /** Gives the lease up (closing its connection releases the lock) and stops trying. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.probeTimer) clearTimeout(this.probeTimer);
    await this.trying;
    const client = this.client;
    this.client = undefined;
    if (this.held) {
      this.held = false;
      this.listener.onLost();
    }
    await client?.end().catch(() => undefined);
  }
}

/** Lease keys ('kuma' 'sing' and so on), one per singleton on the PostgreSQL store. */
export const LEASE_KEYS = { singletons: 0x6b756d61_73696e67n } as const;
