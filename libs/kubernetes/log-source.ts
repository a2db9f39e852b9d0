import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Actor, NewEvent, StoredEvent } from '../event-log/event.ts';
import { VersionConflictError } from '../event-log/errors.ts';
import type { EventLog } from '../event-log/port.ts';
import { CurrentState } from '../projection/current-state.ts';
import type { ResourceTypeDescriptor } from '../resources/descriptor.ts';
import type { TypeRegistry } from '../resources/registry.ts';
import { ValidationError, type JsonObject } from '../resources/validation.ts';
import { decodeResource } from '../resources/wire.ts';
import { Informers, type Informer } from './informers.ts';
import { bodyOf, identityOf, type Identity, type KumaObject } from './kuma-object.ts';
import { KUMA_GROUP, KUMA_VERSION } from './pod-controller.ts';

/**
 * Kubernetes as the source of the log (`store.type: kubernetes`): the `kuma.io` custom resources
 * are the truth, as in Kuma, and every create, update and delete this control plane observes
 * through its watches becomes an event, in the order observed, with the field manager of the
 * latest write as the actor and the object's resourceVersion as the request id. So audit,
 * history, time travel and replay work on Kubernetes as elsewhere.
 *
 * Nothing is missed or duplicated across restarts and expired watches:
 * - an event is appended only where the object differs from what the log holds;
 * - its id is derived from the object's uid and resourceVersion, so two observers of one log
 *   (one before and after a restart, or replicas sharing a JetStream or PostgreSQL log) append
 *   it once (the log de-duplicates ids); an id the log had from an earlier incarnation is noticed
 *   and the change decided again;
 * - what is appended for an object is what the informer's cache holds when its turn comes, so a
 *   retry never writes an older version over a newer one, and a mesh change deletes the
 *   resource under its old identity;
 * - once every informer has listed successfully, resources the log holds from Kubernetes that
 *   the cluster no longer has are deleted (what was deleted while no watch was open);
 * - client-node's informers relist by themselves after 410 Gone.
 *
 * A custom resource that does not validate (from a cluster without the validating webhook) is
 * logged with the object and the reason, and skipped: the log keeps the last valid state.
 */

export interface LogSourceOptions {
  readonly logger: Logger;
  /** Types to follow (default: every registered type that is a Kuma custom resource). */
  readonly types?: readonly string[];
  /** A failed informer is started again after this, doubling up to 30 s (default 200 ms). */
  readonly retryMs?: number;
  /**
   * The control plane's namespace: its Kubernetes Secrets of type `system.kuma.io/secret` (mesh
   * from the `kuma.io/mesh` label) and `system.kuma.io/global-secret` are the log's Secrets and
   * GlobalSecrets, their `data.value` the secret's data, as in Kuma. Unset: no Secrets followed.
   */
  readonly secretsNamespace?: string;
}

/** Kuma's Kubernetes Secret types for its Secret and GlobalSecret. */
export const SECRET_TYPES: Readonly<Record<string, string>> = { Secret: 'system.kuma.io/secret', GlobalSecret: 'system.kuma.io/global-secret' };


export class KubernetesLogSource {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;
  private readonly descriptors: readonly ResourceTypeDescriptor[];
  private readonly informers: Informers;
  private readonly caches = new Map<string, Informer<KumaObject>>();
  private readonly state = new CurrentState();
  /** Per resource key: whether its last event came from here (only those are deleted by a resync). */
  private readonly fromKubernetes = new Set<string>();
  /** Per object (`type/namespace/name`): the identity its last event was appended under (a mesh change moves it). */
  private readonly identities = new Map<string, Identity>();
  /** Objects whose state is to be brought into the log, in the order their changes were observed. */
  private dirty = new Set<string>();
  private draining: Promise<void> | undefined;
  private failures = 0;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly counts = { upserts: 0, deletes: 0, unchanged: 0, invalid: 0 };

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly log: EventLog,
    private readonly registry: TypeRegistry,
    private readonly opts: LogSourceOptions,
  ) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.descriptors = (opts.types ?? registry.all().map((d) => d.name))
      .map((t) => registry.get(t))
      .filter((d) => d.kubernetesScope !== undefined || (opts.secretsNamespace !== undefined && SECRET_TYPES[d.name] !== undefined));
    this.informers = new Informers(kc, { logger: opts.logger, component: 'k8s-store', ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}) });
  }

  /** Informers restarted after a failure (tests). */
  get watchRestarts(): number {
    return this.informers.restarts;
  }

  /**
   * Reads the log, lists every type (until each list has succeeded: an empty cache after a failed
   * list is no picture of the cluster), reconciles the log with the cluster, then follows the watches.
   */
  async start(): Promise<void> {
    for await (const e of this.log.read(1)) this.observe(e);
    for (const d of this.descriptors) this.caches.set(d.name, this.informer(d));
    await this.informers.start();
    if (this.stopped) return;
    // What the log holds from Kubernetes and the cluster lacks was deleted while no watch was open.
    for (const d of this.descriptors) {
      const objects = this.caches.get(d.name)!.list().flatMap((raw) => this.view(d, raw) ?? []);
      const present = new Set(objects.flatMap((o) => (this.identity(d, o) ? [keyOf(this.identity(d, o)!)] : [])));
      for (const r of this.state.list(d.name)) {
        const id: Identity = { type: d.name, ...(r.meta.mesh !== undefined ? { mesh: r.meta.mesh } : {}), name: r.meta.name };
        if (!present.has(keyOf(id)) && this.fromKubernetes.has(keyOf(id))) this.markDirty(`gone\u0000${keyOf(id)}`);
      }
      for (const o of objects) this.markDirty(objectKey(d, o));
    }
    await this.idle();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await this.informers.stop();
    await this.draining;
  }

  /** Resolves once every change observed so far is in the log (or waits for a retry). */
  async idle(): Promise<void> {
    while (!this.stopped && (this.draining || (this.dirty.size > 0 && this.timers.size === 0))) await (this.draining ?? new Promise((r) => setTimeout(r, 10)));
  }

  private informer(d: ResourceTypeDescriptor): Informer<KumaObject> {
    const plural = d.plural;
    const ns = this.opts.secretsNamespace!;
    const { informer } =
      SECRET_TYPES[d.name] !== undefined
        ? this.informers.add<KumaObject>(`/api/v1/namespaces/${ns}/secrets`, () => this.core.listNamespacedSecret({ namespace: ns }) as Promise<k8s.KubernetesListObject<KumaObject>>)
        : this.informers.add<KumaObject>(`/apis/${KUMA_GROUP}/${KUMA_VERSION}/${plural}`, () =>
            this.custom.listClusterCustomObject({ group: KUMA_GROUP, version: KUMA_VERSION, plural }) as Promise<k8s.KubernetesListObject<KumaObject>>,
          );
    const changed = (raw: KumaObject) => {
      const key = objectKey(d, raw);
      const o = this.view(d, raw);
      // A Secret of another type is not this type's (and, if it was, is now gone from it).
      if (!o && !this.identities.has(key)) return;
      if (o && !this.identities.has(key)) {
        const id = this.identity(d, o);
        if (id) this.identities.set(key, id);
      }
      this.markDirty(key);
    };
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
    return informer;
  }

  /**
   * Level-triggered: what is appended for an object is what the informer's cache holds when its
   * turn comes (or its deletion), so a retry never writes an older version over a newer one.
   */
  private markDirty(key: string): void {
    this.dirty.delete(key);
    this.dirty.add(key);
    this.drainSoon();
  }

  private drainSoon(): void {
    if (this.draining || this.stopped || !this.informers.synced() || this.timers.size > 0) return;
    this.draining = (async () => {
      while (this.dirty.size > 0 && !this.stopped) {
        // Taken out first: a change observed while it is brought in marks it again.
        const key = this.dirty.values().next().value!;
        this.dirty.delete(key);
        try {
          await this.bring(key);
          this.failures = 0;
        } catch (err) {
          // First again, so that what follows it still follows it.
          if (!this.dirty.has(key)) this.dirty = new Set([key, ...this.dirty]);
          // The log refused (unavailable, or conflicts that kept coming): the same object again, later, in order.
          this.opts.logger.error({ component: 'k8s-store', object: key.replaceAll('\u0000', '/'), err: (err as Error).message }, 'cannot append a change observed in Kubernetes; retrying');
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.drainSoon();
          }, Math.min(30_000, (this.opts.retryMs ?? 200) * 2 ** this.failures++));
          this.timers.add(t);
          return;
        }
      }
    })().finally(() => {
      this.draining = undefined;
      if (this.dirty.size > 0) this.drainSoon();
    });
  }

  /** Brings one object's current state (or its absence) into the log. */
  private async bring(key: string): Promise<void> {
    if (key.startsWith('gone\u0000')) {
      const [, type, mesh, name] = key.split('\u0000') as [string, string, string, string];
      return this.append({ type, ...(mesh !== '' ? { mesh } : {}), name }, undefined, undefined);
    }
    const [type, namespace, name] = key.split('\u0000') as [string, string, string];
    const d = this.registry.get(type);
    const raw = this.caches.get(type)!.get(name, namespace || undefined);
    const o = raw && this.view(d, raw);
    const before = this.identities.get(key);
    if (!o) {
      this.identities.delete(key);
      if (before) await this.append(before, undefined, undefined);
      return;
    }
    const id = this.identity(d, o);
    if (!id) return;
    // Its mesh changed: the resource under the old identity is gone.
    if (before && keyOf(before) !== keyOf(id)) await this.append(before, undefined, undefined);
    this.identities.set(key, id);
    await this.upsert(d, id, o);
  }

  private identity(d: ResourceTypeDescriptor, o: KumaObject): Identity | undefined {
    return identityOf(d, o);
  }

  /** What the log takes of an informer's object: a kuma.io object as it is; a Kubernetes Secret of this type as Kuma's Secret (`data` from `data.value`), else nothing. */
  private view(d: ResourceTypeDescriptor, raw: KumaObject): KumaObject | undefined {
    const secretType = SECRET_TYPES[d.name];
    if (secretType === undefined) return raw;
    const secret = raw as unknown as k8s.V1Secret;
    if (secret.type !== secretType) return undefined;
    const value = secret.data && Object.hasOwn(secret.data, 'value') ? secret.data['value'] : undefined;
    return { apiVersion: 'v1', kind: 'Secret', metadata: secret.metadata ?? {}, spec: value !== undefined ? { data: value } : {} };
  }

  private async upsert(d: ResourceTypeDescriptor, id: Identity, o: KumaObject): Promise<void> {
    const body = bodyOf(d, id, o);
    let input;
    try {
      input = decodeResource(body, this.registry);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      this.counts.invalid++;
      this.opts.logger.warn(
        { component: 'k8s-store', object: `${d.plural}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`, violations: err.violations },
        'a custom resource does not validate; the log keeps its last valid state',
      );
      return;
    }
    if (this.holds(id, { labels: input.labels, spec: input.spec })) {
      this.counts.unchanged++;
      this.fromKubernetes.add(keyOf(id));
      return;
    }
    await this.append(id, { labels: input.labels, spec: input.spec, creationTime: o.metadata?.creationTimestamp }, o);
  }

  /** Whether the log holds the resource with this content (`undefined`: holds none). */
  private holds(id: Identity, want: { labels: Record<string, string>; spec: JsonObject } | undefined): boolean {
    const have = this.state.get(id);
    if (!want) return have === undefined;
    return have !== undefined && stable(have.spec) === stable(want.spec) && stable(have.meta.labels) === stable(want.labels);
  }

  /**
   * Appends an upsert (`resource`) or a delete, checked against the version the log holds. Its id
   * names the object's uid and resourceVersion (a delete: the version it deletes), so observers
   * sharing one log append it once. A conflict, or an id the log already had from an earlier
   * incarnation, re-reads the log and decides again.
   */
  private async append(id: Identity, resource: { labels: Record<string, string>; spec: JsonObject; creationTime: Date | string | undefined } | undefined, o: KumaObject | undefined): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.holds(id, resource)) return;
      const now = new Date().toISOString();
      const rv = o?.metadata?.resourceVersion;
      const version = this.state.version(id);
      const subject = o?.metadata?.uid ?? keyOf(id).replaceAll('\u0000', '/');
      const actor: Actor = { subject: managerOf(o), source: 'kubernetes', ...(rv ? { requestId: `resourceVersion ${rv}` } : {}) };
      const eventId = resource ? `k8s:${subject}:${rv ?? now}${attempt > 0 ? `:${version}` : ''}` : `k8s:${subject}:deleted:${version}`;
      const common = { id: eventId, time: now, actor, type: id.type, ...(id.mesh !== undefined ? { mesh: id.mesh } : {}), name: id.name };
      const previous = this.state.get(id);
      const event: NewEvent = resource
        ? {
            ...common,
            op: 'upsert',
            resource: {
              labels: resource.labels,
              spec: resource.spec,
              creationTime: previous?.meta.creationTime ?? (resource.creationTime ? new Date(resource.creationTime).toISOString() : now),
              modificationTime: now,
            },
          }
        : { ...common, op: 'delete' };
      const position = this.state.position;
      try {
        const stored = await this.log.append(event, { expectedVersion: version });
        // Right after what this source has seen: taken as it is. Later (another writer of a shared
        // log appended before it): read up to it, so what came between is seen too, never skipped.
        if (stored.seq === this.state.position + 1) this.observe(stored);
        else await this.catchUp();
        if (stored.seq > position) {
          if (resource) this.counts.upserts++;
          else this.counts.deletes++;
          return;
        }
        // The log had this id already from before (an earlier incarnation): decide again.
      } catch (err) {
        if (!(err instanceof VersionConflictError)) throw err;
      }
      if (attempt >= 3) throw new Error(`${id.type} ${id.mesh ?? ''}/${id.name}: the log kept moving under this change`);
      await this.catchUp();
    }
  }

  /** Reads what the log has beyond what this source has seen (another replica's appends to a shared log). */
  private async catchUp(): Promise<void> {
    for await (const e of this.log.read(this.state.position + 1)) this.observe(e);
  }

  private observe(e: StoredEvent): void {
    if (e.seq <= this.state.position) return;
    this.state.apply(e);
    const key = keyOf(e);
    if (e.actor.source === 'kubernetes') this.fromKubernetes.add(key);
    else this.fromKubernetes.delete(key);
  }
}

const objectKey = (d: ResourceTypeDescriptor, o: KumaObject) => `${d.name}\u0000${o.metadata?.namespace ?? ''}\u0000${o.metadata?.name ?? ''}`;
const keyOf = (r: { type: string; mesh?: string; name: string }) => `${r.type}\u0000${r.mesh ?? ''}\u0000${r.name}`;

/** The field manager of the object's latest write (kubectl, a Helm release, a controller), else `kubernetes`. */
function managerOf(o: KumaObject | undefined): string {
  const fields = o?.metadata?.managedFields ?? [];
  let latest: k8s.V1ManagedFieldsEntry | undefined;
  for (const f of fields) if (!latest || String(f.time ?? '') >= String(latest.time ?? '')) latest = f;
  return latest?.manager ?? 'kubernetes';
}

/** JSON with sorted keys: equal content, equal text. */
function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}
