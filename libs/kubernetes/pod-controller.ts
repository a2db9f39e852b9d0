import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Informers, type Informer } from './informers.ts';
import { KeyedQueue } from './work-queue.ts';
import { convertPod, meshOf, NODE_LABELS_TO_COPY, type ConvertedDataplane } from './pod-converter.ts';

/**
 * Kuma's PodReconciler (pkg/plugins/runtime/k8s/controllers/pod_controller.go): keeps one
 * `kuma.io/v1alpha1` Dataplane object per injected Pod, named and namespaced like the Pod and
 * owned by it, as convertPod says. It watches Pods, Services, Namespaces, ReplicaSets, Nodes and
 * Meshes through informers and reconciles a Pod whenever anything it is converted from changes,
 * so changes in any order converge to the same Dataplanes. What Kuma reports rather than drops
 * (a Pod in a Mesh that does not exist, a Service port with no container port, an unknown
 * protocol) becomes a Kubernetes Event on the Pod, once per distinct message.
 */

export const KUMA_GROUP = 'kuma.io';
export const KUMA_VERSION = 'v1alpha1';

export interface PodControllerOptions {
  readonly logger: Logger;
  readonly zone?: string;
  readonly workloadLabels?: readonly string[];
  /** A failed reconcile or informer is retried after this, doubling up to 30 s (default 200 ms). */
  readonly retryMs?: number;
}

/** A Dataplane object as Kuma's CRD has it: `mesh` beside `spec`. */
interface DataplaneObject {
  apiVersion: string;
  kind: 'Dataplane';
  metadata: k8s.V1ObjectMeta;
  mesh: string;
  spec: { networking: Record<string, unknown> };
}


export class PodController {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;
  private readonly informers: Informers;
  private pods!: Informer<k8s.V1Pod>;
  private services!: Informer<k8s.V1Service>;
  private namespaces!: Informer<k8s.V1Namespace>;
  private replicaSets!: Informer<k8s.V1ReplicaSet>;
  private meshes!: Informer<k8s.KubernetesObject>;
  private nodes!: Informer<k8s.V1Node>;
  /** Per Node: the labels it gives its Pods' inbound tags, so a Node's heartbeat reconciles nothing. */
  private readonly nodeTags = new Map<string, string>();
  private readonly queue: KeyedQueue;
  /** Per Pod (`ns/name`): the Event messages already reported, so each is reported once. */
  private readonly reported = new Map<string, Set<string>>();
  /** Reconciles done, and Dataplane writes made (for tests and metrics). */
  readonly counts = { reconciles: 0, writes: 0, deletes: 0, events: 0 };

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly opts: PodControllerOptions,
  ) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.informers = new Informers(kc, { logger: opts.logger, component: 'k8s-pod-controller', ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}) });
    // Until every cache is filled, a Pod could be converted without its Services or Mesh: nothing is reconciled (start enqueues all).
    this.queue = new KeyedQueue((key) => this.reconcile(key), {
      ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}),
      ready: () => this.informers.synced(),
      failed: (key, err) => opts.logger.warn({ component: 'k8s-pod-controller', pod: key, err: err.message }, 'reconcile failed; retrying'),
    });
  }

  /** Informers restarted after a failure (tests). */
  get watchRestarts(): number {
    return this.informers.restarts;
  }

  /** Resolves once every informer has listed: Pods are reconciled only against complete caches. */
  async start(): Promise<void> {
    const apps = this.kc.makeApiClient(k8s.AppsV1Api);
    this.pods = this.informer('/api/v1/pods', () => this.core.listPodForAllNamespaces(), (p) => this.enqueue(p));
    this.services = this.informer('/api/v1/services', () => this.core.listServiceForAllNamespaces(), (s) => this.enqueueNamespace(s.metadata?.namespace));
    this.namespaces = this.informer('/api/v1/namespaces', () => this.core.listNamespace(), (n) => this.enqueueNamespace(n.metadata?.name));
    this.replicaSets = this.informer('/apis/apps/v1/replicasets', () => apps.listReplicaSetForAllNamespaces(), (r) => this.enqueueNamespace(r.metadata?.namespace));
    this.nodes = this.informer('/api/v1/nodes', () => this.core.listNode(), (n) => this.nodeChanged(n));
    this.meshes = this.informer(`/apis/${KUMA_GROUP}/${KUMA_VERSION}/meshes`, () => this.custom.listClusterCustomObject({ group: KUMA_GROUP, version: KUMA_VERSION, plural: 'meshes' }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>, () => this.enqueueAll());
    await this.informers.start();
    this.enqueueAll();
  }

  async stop(): Promise<void> {
    await this.informers.stop();
    await this.queue.stop();
  }

  /** A Namespace as the cache holds it (undefined before the first list, or when there is none). */
  namespace(name: string): k8s.V1Namespace | undefined {
    return this.namespaces?.get(name);
  }

  /** Whether the cache holds a Mesh of this name. */
  meshExists(name: string): boolean {
    return this.meshes?.get(name) !== undefined;
  }

  /** Resolves once no Pod waits to be reconciled (tests). */
  async idle(): Promise<void> {
    await this.queue.idle();
  }

  private informer<T extends k8s.KubernetesObject>(path: string, list: () => Promise<k8s.KubernetesListObject<T>>, changed: (o: T) => void): Informer<T> {
    const { informer } = this.informers.add(path, list);
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
    return informer;
  }

  private enqueue(pod: k8s.KubernetesObject): void {
    this.queue.add(`${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name}`);
  }

  /** A Node's copied labels changed (or it went): its Pods again. Status heartbeats change nothing. */
  private nodeChanged(node: k8s.V1Node): void {
    const name = node.metadata?.name ?? '';
    const present = this.nodes?.get(name) !== undefined;
    const tags = present ? JSON.stringify(NODE_LABELS_TO_COPY.map((k) => node.metadata?.labels?.[k] ?? null)) : '';
    if (this.nodeTags.get(name) === tags) return;
    if (present) this.nodeTags.set(name, tags);
    else this.nodeTags.delete(name);
    for (const p of this.pods?.list() ?? []) if (p.spec?.nodeName === name) this.enqueue(p);
  }

  private enqueueNamespace(namespace: string | undefined): void {
    for (const p of this.pods?.list(namespace) ?? []) this.enqueue(p);
  }

  private enqueueAll(): void {
    for (const p of this.pods?.list() ?? []) this.enqueue(p);
  }

  private async reconcile(key: string): Promise<void> {
    this.counts.reconciles++;
    const [namespace, name] = key.split('/') as [string, string];
    const pod = this.pods.get(name, namespace);
    if (!pod) {
      this.reported.delete(key);
      return this.deleteDataplane(namespace, name);
    }
    const ns = this.namespaces.get(namespace);
    const node = pod.spec?.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
    const out = convertPod({
      pod,
      services: this.services.list(namespace),
      ...(ns ? { namespace: ns } : {}),
      ...(node ? { node } : {}),
      owners: (kind, n, owner) => (kind === 'ReplicaSet' ? this.replicaSets.get(owner, n) : undefined),
      ...(this.opts.zone ? { zone: this.opts.zone } : {}),
      ...(this.opts.workloadLabels ? { workloadLabels: this.opts.workloadLabels } : {}),
    });
    if ('skipped' in out) {
      // No IP yet: reconciled again when it has one. Not injected, or completed: no Dataplane.
      if (!out.keep) await this.deleteDataplane(namespace, name);
      return;
    }
    const mesh = meshOf(pod, ns);
    if (!this.meshes.get(mesh)) {
      await this.report(pod, 'MeshNotFound', `mesh "${mesh}" does not exist: no Dataplane until it does`);
      return;
    }
    await this.writeDataplane(pod, out.dataplane);
    for (const w of out.warnings) await this.report(pod, 'DataplaneConversion', w);
  }

  private async writeDataplane(pod: k8s.V1Pod, dp: ConvertedDataplane): Promise<void> {
    const namespace = pod.metadata!.namespace ?? 'default';
    const want: DataplaneObject = {
      apiVersion: `${KUMA_GROUP}/${KUMA_VERSION}`,
      kind: 'Dataplane',
      metadata: {
        name: dp.name,
        namespace,
        labels: dp.labels,
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      mesh: dp.mesh,
      spec: { networking: dp.networking },
    };
    const ref = { group: KUMA_GROUP, version: KUMA_VERSION, namespace, plural: 'dataplanes', name: dp.name };
    const have = (await this.custom.getNamespacedCustomObject(ref).catch(notFoundAsUndefined)) as DataplaneObject | undefined;
    if (!have) {
      await this.custom.createNamespacedCustomObject({ ...ref, body: want });
      this.counts.writes++;
      return;
    }
    // The owner too: a Pod recreated under the same name is another owner (the old one's garbage collection would take it).
    const owner = (o: DataplaneObject) => o.metadata.ownerReferences?.find((r) => r.kind === 'Pod')?.uid;
    if (have.mesh === want.mesh && same(have.spec, want.spec) && same(have.metadata.labels ?? {}, want.metadata.labels ?? {}) && owner(have) === owner(want)) return;
    // Optimistic concurrency: the version read; a conflict is retried with what is there then.
    await this.custom.replaceNamespacedCustomObject({ ...ref, body: { ...want, metadata: { ...want.metadata, resourceVersion: have.metadata.resourceVersion } } });
    this.counts.writes++;
  }

  private async deleteDataplane(namespace: string, name: string): Promise<void> {
    const ref = { group: KUMA_GROUP, version: KUMA_VERSION, namespace, plural: 'dataplanes', name };
    const have = (await this.custom.getNamespacedCustomObject(ref).catch(notFoundAsUndefined)) as DataplaneObject | undefined;
    // Only what this controller made for the Pod: a Dataplane someone else wrote is theirs.
    if (!have || !have.metadata.ownerReferences?.some((o) => o.kind === 'Pod' && o.name === name)) return;
    await this.custom.deleteNamespacedCustomObject(ref).catch(notFoundAsUndefined);
    this.counts.deletes++;
  }

  /** A Warning Event on the Pod, once per distinct message while the Pod lives. */
  private async report(pod: k8s.V1Pod, reason: string, message: string): Promise<void> {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    let seen = this.reported.get(key);
    if (!seen) this.reported.set(key, (seen = new Set()));
    if (seen.has(message)) return;
    seen.add(message);
    this.opts.logger.warn({ component: 'k8s-pod-controller', pod: key, reason }, message);
    const namespace = pod.metadata?.namespace ?? 'default';
    const now = new Date();
    // Best effort: an Event that cannot be written (RBAC without events/create) must not hold anything up.
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${pod.metadata?.name}.${now.getTime().toString(16)}${Math.random().toString(16).slice(2, 8)}`, namespace },
        involvedObject: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name, namespace, uid: pod.metadata?.uid },
        reason,
        message,
        type: 'Warning',
        source: { component: 'kuma-cp' },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    }).then(
      () => this.counts.events++,
      (err: unknown) => this.opts.logger.warn({ component: 'k8s-pod-controller', pod: key, err: (err as Error).message }, 'cannot write a Kubernetes Event'),
    );
  }
}

function notFoundAsUndefined(err: unknown): undefined {
  if ((err as { code?: number }).code === 404) return undefined;
  throw err;
}

/** Structural equality of JSON values, key order aside. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
