import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { meshCaSecrets } from '../ca/mesh-ca-resources.ts';
import { defaultPoliciesFor } from '../policies/defaults.ts';
import type { TypeRegistry } from '../resources/registry.ts';
import { ValidationError, type JsonObject } from '../resources/validation.ts';
import { Informers, type Informer } from './informers.ts';
import { KeyedQueue } from './work-queue.ts';
import { SECRET_TYPES } from './log-source.ts';
import { KUMA_GROUP, KUMA_VERSION } from './pod-controller.ts';

/**
 * What a Mesh brings with it on Kubernetes, as Kuma's mesh defaults and CA controllers make it:
 * - once per Mesh, Kuma's default policies (`mesh-timeout-all-<mesh>`, ...; honouring
 *   `skipCreatingInitialPolicies`) as custom resources in the system namespace, then the Mesh
 *   annotated `kuma.io/mesh-defaults-generated: "true"`, so a default deleted later stays deleted;
 * - whenever the Mesh names a builtin CA backend whose Secrets do not exist, the CA's certificate
 *   and key as Kubernetes Secrets (`system.kuma.io/secret`) in the system namespace.
 * All of it is written to the API server, so it reaches the log the way every kuma.io object and
 * Secret does (the log source), with the API server's audit as well as ours. A Mesh whose CA
 * cannot be made (a provided CA whose Secret is missing) gets a Warning Event.
 */

export const DEFAULTS_GENERATED = 'kuma.io/mesh-defaults-generated';

export class MeshDefaultsController {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;
  private readonly informers: Informers;
  private meshes!: Informer<k8s.KubernetesObject & { spec?: JsonObject }>;
  private secrets!: Informer<k8s.V1Secret>;
  private readonly queue: KeyedQueue;
  readonly counts = { policies: 0, secrets: 0, annotated: 0 };

  constructor(
    kc: k8s.KubeConfig,
    private readonly opts: { readonly logger: Logger; readonly systemNamespace: string; readonly registry: TypeRegistry; readonly retryMs?: number },
  ) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.informers = new Informers(kc, { logger: opts.logger, component: 'k8s-mesh-defaults', ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}) });
    this.queue = new KeyedQueue((name) => this.reconcile(name), {
      ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}),
      ready: () => this.informers.synced(),
      failed: (name, err) => opts.logger.warn({ component: 'k8s-mesh-defaults', mesh: name, err: err.message }, 'could not write what the Mesh brings; retrying'),
    });
  }

  async start(): Promise<void> {
    const ns = this.opts.systemNamespace;
    this.meshes = this.informers.add(`/apis/${KUMA_GROUP}/${KUMA_VERSION}/meshes`, () => this.custom.listClusterCustomObject({ group: KUMA_GROUP, version: KUMA_VERSION, plural: 'meshes' }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject & { spec?: JsonObject }>>).informer;
    this.secrets = this.informers.add(`/api/v1/namespaces/${ns}/secrets`, () => this.core.listNamespacedSecret({ namespace: ns })).informer;
    const mesh = (m: k8s.KubernetesObject) => this.enqueue(m.metadata?.name);
    this.meshes.on('add', mesh);
    this.meshes.on('update', mesh);
    // A CA Secret deleted: make it again for the Meshes that use it.
    this.secrets.on('delete', (s) => this.enqueue(s.metadata?.labels?.['kuma.io/mesh']));
    await this.informers.start();
    for (const m of this.meshes.list()) this.enqueue(m.metadata?.name);
  }

  async stop(): Promise<void> {
    await this.informers.stop();
    await this.queue.stop();
  }

  /** Resolves once no Mesh waits, a retry included (tests). */
  async idle(): Promise<void> {
    for (;;) {
      await this.queue.idle();
      if (!this.queue.retrying) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private enqueue(name: string | undefined): void {
    if (name) this.queue.add(name);
  }

  private async reconcile(name: string): Promise<void> {
    const mesh = this.meshes.get(name);
    if (!mesh) return;
    const spec = mesh.spec ?? {};
    await this.caSecrets(name, mesh, spec);
    const annotations = mesh.metadata?.annotations ?? {};
    if (Object.hasOwn(annotations, DEFAULTS_GENERATED) && annotations[DEFAULTS_GENERATED] === 'true') return;
    const ns = this.opts.systemNamespace;
    for (const p of defaultPoliciesFor(name, spec)) {
      const plural = this.opts.registry.get(p.type).plural;
      const body = { apiVersion: `${KUMA_GROUP}/${KUMA_VERSION}`, kind: p.type, metadata: { name: p.name, namespace: ns, labels: { 'kuma.io/mesh': name } }, spec: p.spec };
      await this.custom.createNamespacedCustomObject({ group: KUMA_GROUP, version: KUMA_VERSION, namespace: ns, plural, body }).then(
        () => this.counts.policies++,
        (err: unknown) => {
          if ((err as { code?: number }).code !== 409) throw err;
        },
      );
    }
    await this.custom.patchClusterCustomObject(
      { group: KUMA_GROUP, version: KUMA_VERSION, plural: 'meshes', name, body: { metadata: { annotations: { [DEFAULTS_GENERATED]: 'true' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    this.counts.annotated++;
    this.opts.logger.info({ component: 'k8s-mesh-defaults', mesh: name }, "created the Mesh's default policies");
  }

  private async caSecrets(name: string, mesh: k8s.KubernetesObject, spec: JsonObject): Promise<void> {
    const ns = this.opts.systemNamespace;
    // Decided on a fresh read, never the cache: a CA made twice would replace one already in use.
    const existing = new Map<string, { value: string; resourceVersion?: string }>();
    for (const s of (await this.core.listNamespacedSecret({ namespace: ns, labelSelector: `kuma.io/mesh=${name}` })).items) {
      if (s.type === SECRET_TYPES['Secret'] && s.metadata?.name && s.data && Object.hasOwn(s.data, 'value')) existing.set(s.metadata.name, { value: s.data['value']!, ...(s.metadata.resourceVersion ? { resourceVersion: s.metadata.resourceVersion } : {}) });
    }
    // A builtin CA whose certificate and key do not belong together (half of it lost and made again) is no CA: it is made anew.
    const usable = new Map([...existing].map(([n, v]) => [n, v.value]));
    const certPrefix = `${name}.ca-builtin-cert-`;
    for (const [n, cert] of usable) {
      if (!n.startsWith(certPrefix)) continue;
      const keyName = `${name}.ca-builtin-key-${n.slice(certPrefix.length)}`;
      const key = usable.get(keyName);
      if (key !== undefined && !pairMatches(cert, key)) {
        usable.delete(n);
        usable.delete(keyName);
      }
    }
    let missing: { name: string; data: string }[];
    try {
      missing = await meshCaSecrets(name, spec, (n) => usable.get(n));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const message = err.violations.map((v) => `${v.field}: ${v.reason}`).join('; ');
      this.opts.logger.warn({ component: 'k8s-mesh-defaults', mesh: name, violations: err.violations }, "the Mesh's CA cannot be made");
      await this.core
        .createNamespacedEvent({
          namespace: 'default',
          body: {
            metadata: { generateName: `${name}.` },
            involvedObject: { apiVersion: `${KUMA_GROUP}/${KUMA_VERSION}`, kind: 'Mesh', name, ...(mesh.metadata?.uid ? { uid: mesh.metadata.uid } : {}) },
            reason: 'CANotReady',
            message,
            type: 'Warning',
            source: { component: 'kuma-control-plane' },
          },
        })
        .catch(() => undefined);
      return;
    }
    // A builtin backend's pair, certificate then key: each created, or replaced on the version just
    // read. Any conflict (another writer in between) fails the reconcile, which reads again.
    for (let i = 0; i + 1 < missing.length; i += 2) {
      const pair = [missing[i]!, missing[i + 1]!];
      for (const s of pair) {
        const body: k8s.V1Secret = { metadata: { name: s.name, namespace: ns, labels: { 'kuma.io/mesh': name } }, type: SECRET_TYPES['Secret']!, data: { value: s.data } };
        const have = existing.get(s.name);
        if (have) await this.core.replaceNamespacedSecret({ namespace: ns, name: s.name, body: { ...body, metadata: { ...body.metadata, ...(have.resourceVersion ? { resourceVersion: have.resourceVersion } : {}) } } });
        else await this.core.createNamespacedSecret({ namespace: ns, body });
        this.counts.secrets++;
      }
      // The names only: the key never leaves this process but to the API server.
      this.opts.logger.info({ component: 'k8s-mesh-defaults', mesh: name, secrets: pair.map((s) => s.name) }, "created the Mesh's CA Secrets");
    }
  }
}

/** Whether a CA certificate and key (base64 of PEM, as Kuma's Secrets hold them) belong together. */
function pairMatches(certB64: string, keyB64: string): boolean {
  try {
    return new X509Certificate(Buffer.from(certB64, 'base64')).checkPrivateKey(createPrivateKey(Buffer.from(keyB64, 'base64')));
  } catch {
    return false;
  }
}
