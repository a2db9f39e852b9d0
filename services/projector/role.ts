import type { Logger } from 'pino';
import type { StoredEvent } from '../../libs/event-log/event.ts';
import type { Lifecycle } from '../../libs/platform/lifecycle.ts';
import type { CurrentState } from '../../libs/projection/current-state.ts';
import { ContentGc } from '../../libs/snapshot-store/content-gc.ts';
import type { FabricStores } from '../../libs/snapshot-store/fabric-stores.ts';
import type { Membership } from '../../libs/snapshot-store/membership.ts';
import type { XdsMetrics } from '../../libs/xds/metrics.ts';
import { SnapshotCache } from '../../libs/xds/snapshot-cache.ts';
import { SnapshotGenerator, type GeneratorOptions } from './generator.ts';
import { ManifestPublisher } from './publisher.ts';

/** How often a projector also looks for manifests of deleted Dataplanes in its share (besides membership changes). */
const ORPHAN_SWEEP_MS = 60_000;

export interface ProjectorRoleContext {
  /** This process's member id (a token of `[A-Za-z0-9_-]`). */
  readonly memberId: string;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  readonly metrics: XdsMetrics;
  readonly generator: GeneratorOptions;
  /** The projection the generator follows: its state now, and a hook called after each applied event. */
  readonly state: () => CurrentState;
  readonly follow: (fn: (e: StoredEvent, state: CurrentState) => void) => void;
  /**
   * The fabric this projector publishes to, sharing the proxies with the other projectors on it;
   * without one, snapshots go to a cache in this process (the gateway role beside it serves them).
   */
  readonly fabric?: FabricStores;
  /** Content collection on the fabric (one projector at a time): how often (0: never) and the grace period (see ContentGc). */
  readonly contentGc?: { readonly intervalMs: number; readonly graceMs: number };
}

export interface ProjectorRole {
  readonly generator: SnapshotGenerator;
  /** In process (no fabric): the snapshots, for the gateway role of this process. */
  readonly cache?: SnapshotCache;
}

/**
 * The projector role: a SnapshotGenerator following the projection. In process it feeds a
 * SnapshotCache (a proxy is generated when first watched). On a fabric, projectors share the
 * proxies by rendezvous hashing over live members and publish content and manifests there.
 */
export async function startProjectorRole(ctx: ProjectorRoleContext): Promise<ProjectorRole> {
  const { logger, lifecycle } = ctx;
  if (!ctx.fabric) {
    const cache = new SnapshotCache({ onFirstWatch: (key) => gen.onWatch(key), onFirstServiceWatch: (mesh, svc) => gen.onServiceWatch(mesh, svc) });
    const gen = new SnapshotGenerator(cache, ctx.metrics, logger, ctx.generator);
    gen.load(ctx.state());
    ctx.follow((e, state) => gen.onEvent(e, e.op === 'upsert' ? state.get(e) : undefined));
    lifecycle.onShutdown('snapshot generator', async () => gen.stop());
    return { generator: gen, cache };
  }

  const { content, manifests } = ctx.fabric;
  const membership = ctx.fabric.membership('projector', ctx.memberId, logger);
  const publisher = new ManifestPublisher(content, manifests, membership, () => ctx.state().position, ctx.metrics, logger);
  const gen = new SnapshotGenerator(publisher, ctx.metrics, logger, ctx.generator);
  gen.load(ctx.state());
  ctx.follow((e, state) => gen.onEvent(e, e.op === 'upsert' ? state.get(e) : undefined));
  lifecycle.onShutdown('projector membership', () => membership.stop());
  await membership.start();
  // A moved share is generated at once; new Dataplanes reach their owner through onEvent.
  // Manifests of Dataplanes deleted while their owner was dying get their deletion here: on
  // every membership change, then every ORPHAN_SWEEP_MS as a safety net (soon again after a
  // sweep that failed, e.g. while the fabric was down).
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping = true;
  const sweepIn = (ms: number) => {
    clearTimeout(sweepTimer);
    if (!sweeping) return;
    sweepTimer = setTimeout(sweep, ms);
    sweepTimer.unref();
  };
  const sweep = (): void => {
    Promise.all([publisher.sweepOrphans((key) => gen.exists(key)), publisher.sweepServiceOrphans((mesh, svc) => gen.serviceExists(mesh, svc))]).then(
      ([n, services]) => {
        if (n > 0) logger.info({ component: 'projector', deleted: n }, 'published deletions for manifests whose Dataplane is gone');
        if (services > 0) logger.info({ component: 'projector', deleted: services }, 'published deletions for by-name resources of services that are gone');
        sweepIn(ORPHAN_SWEEP_MS);
      },
      (err: Error) => {
        logger.warn({ component: 'projector', err: err.message }, 'cannot sweep manifests of deleted Dataplanes; trying again in 5s');
        sweepIn(5000);
      },
    );
  };
  const reshare = () => {
    gen.regenerate(publisher.reshare(gen.proxyKeys()));
    gen.regenerateServices(publisher.reshareServices(gen.serviceKeys()));
    sweep();
  };
  membership.onChange(reshare);
  reshare();
  // By-name resources of a service are built when the first gateway asks for it (proxyless
  // clients dialling it by name), not for every service of every mesh.
  const stopDemand = await manifests.watchDemand(
    (key, demanded) => {
      const svc = manifests.parseServiceKey(key);
      if (publisher.setDemand(key, demanded) && svc) gen.onServiceWatch(svc.mesh, svc.service);
    },
    (err) => logger.warn({ component: 'projector', err: err.message }, 'stopped following the demands for by-name resources'),
  );
  lifecycle.onShutdown('by-name demands', async () => stopDemand());
  const stopGc = startContentGc(new ContentGc(content, manifests), membership, ctx.contentGc ?? { intervalMs: 0, graceMs: 0 }, ctx.metrics, logger);
  lifecycle.onShutdown('snapshot publisher', async () => {
    sweeping = false;
    clearTimeout(sweepTimer);
    stopGc();
    gen.stop();
    // Publish what is pending, but do not wait on retries forever (the fabric may be gone).
    await Promise.race([publisher.idle(), new Promise((r) => setTimeout(r, 5000))]);
    publisher.stop();
    await publisher.idle();
  });
  logger.info({ component: 'projector', member: ctx.memberId, members: membership.members, fabric: ctx.fabric.fabric.kind }, 'projector started: publishing its share to the fabric');
  return { generator: gen };
}

/**
 * Content collection runs on one projector at a time: the one that owns a fixed key by the
 * same rendezvous hashing that shares the proxies. Two that briefly both think so are safe
 * (each removal is bounded by the revision it saw).
 */
function startContentGc(gc: ContentGc, membership: Membership, opts: { intervalMs: number; graceMs: number }, metrics: XdsMetrics, logger: Logger): () => void {
  if (opts.intervalMs === 0) return () => undefined;
  let running = false;
  const run = async () => {
    if (running || !membership.owns('\u0000content-gc')) return;
    running = true;
    const started = performance.now();
    try {
      const r = await gc.sweep(opts.graceMs);
      metrics.contentGcRuns.inc({ outcome: 'ok' });
      metrics.contentGcRemoved.inc({ kind: 'content' }, r.deleted);
      metrics.contentGcRemoved.inc({ kind: 'tombstone' }, r.tombstones);
      logger.info({ component: 'projector', ...r, seconds: Math.round(performance.now() - started) / 1000 }, 'collected unreferenced xDS content');
    } catch (err) {
      metrics.contentGcRuns.inc({ outcome: 'failed' });
      logger.warn({ component: 'projector', err: (err as Error).message }, 'content collection failed (a failed read removes nothing); trying again at the next interval');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void run(), opts.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
