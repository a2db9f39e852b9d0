import type { Logger } from 'pino';
import type { StoredEvent } from '../../libs/event-log/event.ts';
import { IDENTITY_TYPES, MeshViews } from '../../libs/mesh-view/mesh-view.ts';
import type { CurrentState } from '../../libs/projection/current-state.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import { MapSharedCache, type OutboundTrim } from '../../libs/xds/generate/context.ts';
import type { SnapshotSink } from '../../libs/xds/snapshot-cache.ts';
import { ResourceCollisionError, type Snapshot } from '../../libs/xds/snapshot.ts';
import { serviceByName } from '../../libs/xds/generate/by-name.ts';
import type { TranslationPlugin } from '../../libs/xds/generate/plugin.ts';
import { Translator, type Translation } from '../../libs/xds/translator.ts';
import { PluginError } from '../../libs/xds/plugin-error.ts';
import { ComputedPolicies, rulesAffectedBy } from '../../libs/policies/engine/proxy-policies.ts';
import type { MeshChange } from '../../libs/mesh-view/mesh-view.ts';
import type { XdsMetrics } from '../../libs/xds/metrics.ts';

export interface GeneratorOptions {
  /** Changes within this window are coalesced into one regeneration. */
  readonly debounceMs: number;
  /** Policy plugins, applied by the translator in their order. */
  readonly plugins?: readonly TranslationPlugin[];
  /** The targetRef policy types the views keep and match (descriptors with `isPolicy`). */
  readonly policyTypes?: ReadonlySet<string>;
  /** Trims transparent proxies' outbounds to what they may call (automatic reachable services); off when absent. */
  readonly outboundTrim?: OutboundTrim;
}

/** Why a proxy has no (new) configuration: shown by `_config` and logged. */
export interface GenerationError {
  readonly proxy: string;
  readonly error: string;
  readonly time: string;
}

/** How long one slice of a flush generates before the event loop runs (see `generateSome`). */
const SLICE_MS = 25;

const splitKey = (key: string): [string, string] => {
  const dot = key.indexOf('.');
  return [key.slice(0, dot), key.slice(dot + 1)];
};

/**
 * Turns the resource log into proxy snapshots. It keeps per-mesh views current event by
 * event, works out which proxies a change affects (the changed Dataplane, consumers of changed
 * services), and regenerates only those that a gateway watches, once per debounce window.
 * A proxy whose new configuration cannot be built keeps its last good snapshot.
 */
export class SnapshotGenerator {
  readonly views: MeshViews;
  private readonly translator: Translator;
  /**
   * Proxies to regenerate, with the policy types whose change alone made them dirty (their last
   * translation is redone for those), or `null` for a whole translation.
   */
  private readonly dirty = new Map<string, ReadonlySet<string> | null>();
  /** Each generated proxy's last translation, which a policy change redoes only in part. */
  private readonly translations = new Map<string, Translation>();
  private readonly sharedDirty = new Set<string>();
  /** `mesh\0service` whose by-name resources (proxyless clients asking by name) are to be rebuilt. */
  private readonly servicesDirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private oldestPendingChange: number | undefined;
  readonly errors = new Map<string, GenerationError>();

  constructor(
    private readonly sink: SnapshotSink,
    private readonly metrics: XdsMetrics,
    private readonly logger: Logger,
    private readonly opts: GeneratorOptions,
  ) {
    this.translator = new Translator(new MapSharedCache(), opts.plugins ?? [], undefined, opts.outboundTrim);
    this.views = new MeshViews(opts.policyTypes);
  }

  /** Loads the views from a caught-up state (start-up); later changes arrive through `onEvent`. */
  load(state: CurrentState): void {
    for (const m of state.list('Mesh')) this.views.apply('Mesh', undefined, m.meta.name, m);
    for (const dp of state.list('Dataplane')) this.views.apply('Dataplane', dp.meta.mesh, dp.meta.name, dp);
    for (const type of IDENTITY_TYPES) for (const r of state.list(type)) this.views.apply(type, r.meta.mesh, r.meta.name, r);
    for (const type of this.opts.policyTypes ?? []) for (const p of state.list(type)) this.views.apply(type, p.meta.mesh, p.meta.name, p);
  }

  onEvent(e: StoredEvent, after: Resource | undefined): void {
    const change = this.views.apply(e.type, e.mesh, e.name, after);
    if (!change) return;
    const mesh = this.views.get(change.mesh);
    for (const svc of change.services) if (!mesh?.service(svc)) this.translator.shared.dropSlots(change.mesh, svc);
    // A sink that shares load assignments by reference gets one new CLA per service whose
    // endpoints alone changed, instead of a new snapshot for each of its consumers.
    const byReference = this.sink.setShared && !change.meshChanged ? change.endpointsOnly : new Set<string>();
    const effective = byReference.size === 0 ? change : { ...change, services: new Set([...change.services].filter((s) => !byReference.has(s))) };
    const affected = mesh ? mesh.affected(effective) : new Set<string>();
    if (e.type === 'Dataplane' && e.op === 'delete') affected.add(e.name);
    const reason = policyOnly(change) ? (rulesAffectedBy(change.policy.type) ?? null) : null;
    let any = byReference.size > 0;
    for (const svc of byReference) this.sharedDirty.add(`${change.mesh}\u0000${svc}`);
    if (this.sink.wantsService) {
      // Where by-name resources follow the shared pointer (NATS), a service whose endpoints alone
      // changed keeps its by-name Listener and Cluster: the pointer moved above is all it needs.
      // Re-publishing them for every endpoint change cost a third of the PUT throughput on NATS.
      // A policy change may change what holds for every consumer (see serviceByName): every
      // demanded service of the mesh is rebuilt (a few: only those some client dials by name).
      const services = change.meshChanged || change.policy ? (mesh?.serviceNames() ?? []) : this.sink.servicesShareLoadAssignments ? effective.services : change.services;
      for (const svc of services) {
        if (!this.sink.wantsService(change.mesh, svc)) continue;
        this.servicesDirty.add(`${change.mesh}\u0000${svc}`);
        any = true;
      }
    }
    // A permission change moves the outbounds of the proxies whose reachable services it changed:
    // those are translated whole (their parts change), the others as the reason says.
    const retrimmed = change.policy && mesh && this.opts.outboundTrim ? new Set(this.opts.outboundTrim.affectedBy(mesh, change.policy)) : undefined;
    for (const dp of retrimmed ?? []) affected.add(dp);
    for (const dp of affected) {
      const key = `${change.mesh}.${dp}`;
      const why = retrimmed?.has(dp) ? null : reason;
      // What the last translation was built from changed: it is no basis for the next one.
      if (why === null) this.translations.delete(key);
      if (this.sink.wants(key)) {
        this.markDirty(key, why);
        any = true;
      }
    }
    if (!any) return;
    const t = Date.parse(e.time);
    if (this.oldestPendingChange === undefined || t < this.oldestPendingChange) this.oldestPendingChange = t;
    this.timer ??= setTimeout(() => this.flush(), this.opts.debounceMs);
  }

  /** A gateway started watching a proxy: build its snapshot now. */
  onWatch(key: string): void {
    const s = this.generate(key);
    if (s !== null) this.sink.set(key, s);
  }

  /** A proxyless client asked for a service by name for the first time: build its resources now. */
  onServiceWatch(mesh: string, service: string): void {
    this.sink.setService?.(mesh, service, this.byName(mesh, service));
  }

  /** The by-name resources of a service (see `SnapshotSource.watchService`); `undefined` if it does not exist. */
  byName(mesh: string, service: string): Snapshot | undefined {
    const view = this.views.get(mesh);
    return serviceByName(mesh, view, service, this.translator, view && ((model) => new ComputedPolicies(view, model)));
  }

  /** Whether the service exists in the mesh's view. */
  serviceExists(mesh: string, service: string): boolean {
    return this.views.get(mesh)?.service(service) !== undefined;
  }

  /** Every service of every mesh, as `[mesh, service]`. */
  *serviceKeys(): IterableIterator<readonly [string, string]> {
    for (const mesh of this.views.meshNames()) for (const svc of this.views.get(mesh)!.serviceNames()) yield [mesh, svc];
  }

  /** Rebuilds the by-name resources of these services in the next flush (a share that moved here). */
  regenerateServices(services: Iterable<readonly [string, string]>): void {
    let any = false;
    for (const [mesh, svc] of services) {
      this.servicesDirty.add(`${mesh}\u0000${svc}`);
      any = true;
    }
    if (any) this.timer ??= setTimeout(() => this.flush(), this.opts.debounceMs);
  }

  /** Every proxy with a Dataplane, as `mesh.name`. */
  *proxyKeys(): IterableIterator<string> {
    for (const mesh of this.views.meshNames()) for (const dp of this.views.get(mesh)!.dataplaneNames()) yield `${mesh}.${dp}`;
  }

  /** Whether the proxy's Dataplane exists in the views. */
  exists(key: string): boolean {
    const [meshName, name] = splitKey(key);
    return this.views.get(meshName)?.dataplane(name) !== undefined;
  }

  /** Regenerates these proxies in the next flush (start-up, or a share that moved here). */
  regenerate(keys: Iterable<string>): void {
    let any = false;
    for (const key of keys) {
      this.translations.delete(key);
      this.markDirty(key, null);
      any = true;
    }
    if (any) this.timer ??= setTimeout(() => this.flush(), this.opts.debounceMs);
  }

  private markDirty(key: string, reason: ReadonlySet<string> | null): void {
    const before = this.dirty.get(key);
    if (before === undefined) this.dirty.set(key, reason);
    else if (before !== null) this.dirty.set(key, reason === null ? null : new Set([...before, ...reason]));
  }

  private flush(): void {
    this.timer = undefined;
    const shared = [...this.sharedDirty];
    this.sharedDirty.clear();
    for (const key of shared) {
      const [meshName, svcName] = key.split('\u0000') as [string, string];
      const svc = this.views.get(meshName)?.service(svcName);
      if (!svc) continue;
      // Each distinct slot of the service (one per configuration its consumers have) once.
      for (const [, rebuild] of this.translator.shared.slotsOf(meshName, svcName)) this.sink.setShared!(meshName, rebuild(svc), this.oldestPendingChange);
    }
    const services = [...this.servicesDirty];
    this.servicesDirty.clear();
    for (const key of services) {
      const [meshName, svcName] = key.split('\u0000') as [string, string];
      if (!this.sink.wantsService?.(meshName, svcName)) continue;
      const s = this.byName(meshName, svcName);
      this.sink.setService!(meshName, svcName, s && this.oldestPendingChange !== undefined ? { ...s, changedAt: this.oldestPendingChange } : s);
    }
    const keys = [...this.dirty];
    this.dirty.clear();
    const changedAt = this.oldestPendingChange;
    this.oldestPendingChange = undefined;
    this.generateSome(keys, 0, changedAt);
  }

  /**
   * Generates `keys` from `from` on, handing each snapshot to the sink, for at most SLICE_MS
   * before it lets the event loop run (the rest follows at once after): a change that reaches
   * every proxy is then pushed to the first ones while the others are still being generated,
   * instead of after all of them. What arrives meanwhile is generated against the views as they
   * are then, never older ones; a key dirtied again meanwhile is generated again by the next flush.
   */
  private generateSome(keys: readonly (readonly [string, ReadonlySet<string> | null])[], from: number, changedAt: number | undefined): void {
    if (this.stopped) return;
    const started = performance.now();
    let i = from;
    for (; i < keys.length; i++) {
      if (i > from && (i & 31) === 0 && performance.now() - started > SLICE_MS) break;
      const [key, reason] = keys[i]!;
      if (!this.sink.wants(key)) {
        this.translations.delete(key);
        continue;
      }
      const s = this.generate(key, reason ?? undefined);
      if (s === null) continue;
      this.sink.set(key, s && changedAt !== undefined ? { ...s, changedAt } : s);
    }
    if (i < keys.length) {
      this.slicing++;
      setImmediate(() => {
        this.slicing--;
        this.generateSome(keys, i, changedAt);
      });
      return;
    }
    if (changedAt !== undefined) this.metrics.propagationSeconds.observe((Date.now() - changedAt) / 1000);
  }

  /**
   * The proxy's snapshot; `undefined` if its Dataplane does not exist; `null` to keep the
   * previous one (it cannot be built, or nothing it serves changed). `changedTypes`: only
   * policies of these types changed since its last translation, which is then redone in part.
   */
  generate(key: string, changedTypes?: ReadonlySet<string>): Snapshot | undefined | null {
    const [meshName, name] = splitKey(key);
    const mesh = this.views.get(meshName);
    const dp = mesh?.dataplane(name);
    if (!mesh || !dp || !mesh.mesh) {
      this.translations.delete(key);
      return undefined;
    }
    const end = this.metrics.generationSeconds.startTimer();
    try {
      const previous = changedTypes && this.translations.get(key);
      const { result, reads } = mesh.track(() => this.translator.retranslate(meshName, dp, mesh, new ComputedPolicies(mesh, mesh.dataplaneModel(name)!), previous, changedTypes));
      // A route to a service the proxy has no outbound for makes it that service's consumer too.
      if (result.incremental) mesh.addReads(name, reads);
      else mesh.setReads(name, reads);
      this.translations.set(key, result.translation);
      this.errors.delete(key);
      return result.changed || !previous ? result.translation.snapshot : null;
    } catch (err) {
      if (!(err instanceof ResourceCollisionError || err instanceof PluginError)) throw err;
      // The next translation starts afresh: the last one predates what failed.
      this.translations.delete(key);
      this.errors.set(key, { proxy: key, error: err.message, time: new Date().toISOString() });
      this.logger.error({ component: 'projector', proxy: key, err: err.message }, 'cannot generate configuration; the proxy keeps its last one');
      return null;
    } finally {
      end();
    }
  }

  private stopped = false;
  /** Flushes whose slices are still to run (see generateSome). */
  private slicing = 0;

  /** Resolves once no change waits for a flush and no flush has slices left to run (benchmarks, tests). */
  async idle(): Promise<void> {
    while (!this.stopped && (this.timer !== undefined || this.slicing > 0)) await new Promise((r) => setImmediate(r));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** A change to a policy alone: no Dataplane, service or Mesh changed with it. */
const policyOnly = (c: MeshChange): c is MeshChange & { policy: NonNullable<MeshChange['policy']> } =>
  c.policy !== undefined && !c.meshChanged && c.dataplanes.size === 0 && c.services.size === 0 && !c.serviceSetChanged;
