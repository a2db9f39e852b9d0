import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';

export type Informer<T extends k8s.KubernetesObject> = k8s.Informer<T> & k8s.ObjectCache<T>;

/** An informer that keeps going, and says whether it has listed. */
export interface Watched<T extends k8s.KubernetesObject> {
  readonly informer: Informer<T>;
  /** Whether a list has succeeded since start: until then its cache is no picture of the cluster. */
  readonly synced: () => boolean;
}

/**
 * One place for what client-node's informers leave to their user: an informer stops for good on
 * any error but 410 Gone (its `start` even resolves when its list failed), so it is started again
 * with backoff (doubling from `retryMs` to 30 s, reset by a successful list), a `start` that
 * rejects included; and `synced` tells when its cache has been filled by a successful list.
 */
export class Informers {
  private readonly all: { readonly watched: Watched<k8s.KubernetesObject>; readonly failed: (err: unknown) => void }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  restarts = 0;

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly opts: { readonly logger: Logger; readonly component: string; readonly retryMs?: number },
  ) {}

  add<T extends k8s.KubernetesObject>(path: string, list: () => Promise<k8s.KubernetesListObject<T>>): Watched<T> {
    let listed = false;
    let failures = 0;
    const informer = k8s.makeInformer<T>(this.kc, path, async () => {
      const l = await list();
      listed = true;
      failures = 0;
      return l;
    });
    const restart = () => {
      if (this.stopped) return;
      this.restarts++;
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!this.stopped) informer.start().catch(restartAfter);
      }, Math.min(30_000, (this.opts.retryMs ?? 200) * 2 ** failures++));
      this.timers.add(t);
    };
    const restartAfter = (err: unknown) => {
      this.opts.logger.warn({ component: this.opts.component, path, err: (err as Error).message }, 'watch failed; restarting it');
      restart();
    };
    informer.on('error', restartAfter);
    const watched = { informer, synced: () => listed };
    this.all.push({ watched: watched as unknown as Watched<k8s.KubernetesObject>, failed: restartAfter });
    return watched;
  }

  /** Starts every informer and resolves once each has listed (however many retries that takes), or they are stopped. */
  async start(): Promise<void> {
    // Stopped before it started (a leader's term that ended at once): nothing is watched.
    if (this.stopped) return;
    await Promise.all(this.all.map((w) => w.watched.informer.start().catch(w.failed)));
    while (!this.stopped && !this.synced()) await new Promise((r) => setTimeout(r, 50));
  }

  synced(): boolean {
    return this.all.every((w) => w.watched.synced());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.all.map((w) => w.watched.informer.stop()));
  }
}
