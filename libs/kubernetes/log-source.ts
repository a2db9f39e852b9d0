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
 * - its id is derived from the object's uid and resourceVersion, so two observers (replicas,
 *   or one before and after a restart) append it once (the log de-duplicates ids);
 * - once every informer has listed, resources the log holds from Kubernetes that the cluster
 *   no longer has are deleted (what was deleted while no watch was open);
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
}

type KumaObject = k8s.KubernetesObject & { mesh?: string; spec?: JsonObject };
type Informer = k8s.Informer<KumaObject> & k8s.ObjectCache<KumaObject>;

export class KubernetesLogSource {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly descriptors: readonly ResourceTypeDescriptor[];
  private readonly informers = new Map<string, Informer>();
  private readonly state = new CurrentState();
  /** Per resource key: whether its last event came from here (only those are deleted by a resync). */
  private readonly fromKubernetes = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly counts = { upserts: 0, deletes: 0, unchanged: 0, invalid: 0, watchRestarts: 0 };

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly log: EventLog,
    private readonly registry: TypeRegistry,
    private readonly opts: LogSourceOptions,
  ) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.descriptors = (opts.types ?? registry.all().map((d) => d.name)).map((t) => registry.get(t)).filter((d) => d.kubernetesScope !== undefined);
  }

  /** Reads the log, lists every type, reconciles the log with the cluster, then follows the watches. */
  async start(): Promise<void> {
    for await (const e of this.log.read(1)) this.observe(e);
    for (const d of this.descriptors) this.informers.set(d.name, this.informer(d));
    await Promise.all([...this.informers.values()].map((i) => i.start()));
    // Everything listed is queued: what the log holds from Kubernetes and the cluster lacks is gone.
    this.enqueue(async () => {
      for (const d of this.descriptors) {
        const present = new Set(this.informers.get(d.name)!.list().flatMap((o) => (this.identity(d, o) ? [keyOf(this.identity(d, o)!)] : [])));
        for (const r of this.state.list(d.name)) {
          const key = keyOf({ type: d.name, ...(r.meta.mesh !== undefined ? { mesh: r.meta.mesh } : {}), name: r.meta.name });
          if (!present.has(key) && this.fromKubernetes.has(key)) await this.append({ type: d.name, ...(r.meta.mesh !== undefined ? { mesh: r.meta.mesh } : {}), name: r.meta.name }, undefined, undefined);
        }
      }
    });
    await this.idle();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    await this.chain;
  }

  /** Resolves once every change observed so far is in the log. */
  async idle(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (seen !== this.chain) await (seen = this.chain);
  }

  private informer(d: ResourceTypeDescriptor): Informer {
    const plural = d.plural;
    const path = `/apis/${KUMA_GROUP}/${KUMA_VERSION}/${plural}`;
    const list = () => this.custom.listClusterCustomObject({ group: KUMA_GROUP, version: KUMA_VERSION, plural }) as Promise<k8s.KubernetesListObject<KumaObject>>;
    const informer = k8s.makeInformer<KumaObject>(this.kc, path, list);
    const changed = (o: KumaObject) => this.enqueue(() => this.upsert(d, o));
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', (o) => {
      const id = this.identity(d, o);
      if (id) this.enqueue(() => this.append(id, undefined, o));
    });
    let failures = 0;
    informer.on('error', (err) => {
      this.counts.watchRestarts++;
      this.opts.logger.warn({ component: 'k8s-store', type: d.name, err: (err as Error).message }, 'watch failed; restarting it');
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!this.stopped) void informer.start().then(() => (failures = 0), () => undefined);
      }, Math.min(30_000, (this.opts.retryMs ?? 200) * 2 ** failures++));
      this.timers.add(t);
    });
    return informer;
  }

  /** Changes are appended one at a time, in the order observed. */
  private enqueue(job: () => Promise<void>): void {
    this.chain = this.chain.then(job).catch((err: unknown) => {
      this.opts.logger.error({ component: 'k8s-store', err: (err as Error).message }, 'cannot append a change observed in Kubernetes');
    });
  }

  /** The log's identity of a custom resource: its type, mesh (the `mesh` field, else the `kuma.io/mesh` label, else default) and Kuma's core name. */
  private identity(d: ResourceTypeDescriptor, o: KumaObject): { type: string; mesh?: string; name: string } | undefined {
    const name = o.metadata?.name;
    if (!name) return undefined;
    const namespace = o.metadata?.namespace;
    // Kuma's core name of a namespaced object: `<name>.<namespace>`.
    const core = d.kubernetesScope === 'Namespaced' && namespace ? `${name}.${namespace}` : name;
    if (d.scope !== 'Mesh') return { type: d.name, name: core };
    return { type: d.name, mesh: o.mesh ?? o.metadata?.labels?.['kuma.io/mesh'] ?? 'default', name: core };
  }

  private async upsert(d: ResourceTypeDescriptor, o: KumaObject): Promise<void> {
    const id = this.identity(d, o);
    if (!id) return;
    const labels = o.metadata?.labels ?? {};
    const spec = o.spec ?? {};
    const body = d.specLayout === 'inline' ? { ...spec, ...id, labels } : { ...id, labels, spec };
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
    const have = this.state.get(id);
    if (have && stable(have.spec) === stable(input.spec) && stable(have.meta.labels) === stable(input.labels)) {
      this.counts.unchanged++;
      this.fromKubernetes.add(keyOf(id));
      return;
    }
    await this.append(id, { labels: input.labels, spec: input.spec, creationTime: o.metadata?.creationTimestamp }, o);
  }

  /** Appends an upsert (`resource`) or a delete, checked against the version the log holds; a conflict re-reads the log and tries again. */
  private async append(id: { type: string; mesh?: string; name: string }, resource: { labels: Record<string, string>; spec: JsonObject; creationTime: Date | string | undefined } | undefined, o: KumaObject | undefined): Promise<void> {
    if (!resource && this.state.get(id) === undefined) return;
    const now = new Date().toISOString();
    const rv = o?.metadata?.resourceVersion;
    const uid = o?.metadata?.uid ?? `${id.type}/${id.mesh ?? ''}/${id.name}`;
    const actor: Actor = { subject: managerOf(o), source: 'kubernetes', ...(rv ? { requestId: `resourceVersion ${rv}` } : {}) };
    const common = { id: `k8s:${uid}:${resource ? (rv ?? now) : 'deleted'}`, time: now, actor, type: id.type, ...(id.mesh !== undefined ? { mesh: id.mesh } : {}), name: id.name };
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
    for (let attempt = 0; ; attempt++) {
      try {
        this.observe(await this.log.append(event, { expectedVersion: this.state.version(id) }));
        if (resource) this.counts.upserts++;
        else this.counts.deletes++;
        return;
      } catch (err) {
        if (!(err instanceof VersionConflictError) || attempt >= 3) throw err;
        // Another writer (a replica observing the same change) was first: catch up and decide again.
        for await (const e of this.log.read(this.state.position + 1)) this.observe(e);
        const now = this.state.get(id);
        if (resource && now && stable(now.spec) === stable(resource.spec) && stable(now.meta.labels) === stable(resource.labels)) return;
        if (!resource && !now) return;
      }
    }
  }

  private observe(e: StoredEvent): void {
    this.state.apply(e);
    const key = keyOf(e);
    if (e.actor.source === 'kubernetes') this.fromKubernetes.add(key);
    else this.fromKubernetes.delete(key);
  }
}

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
