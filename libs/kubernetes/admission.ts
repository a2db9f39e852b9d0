import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import fastJsonPatch from 'fast-json-patch';
import type { Logger } from 'pino';
import type { TypeRegistry } from '../resources/registry.ts';
import { checkDecoded, DecodeError } from '../resources/decode.ts';
import { ValidationError } from '../resources/validation.ts';
import { decodeResource } from '../resources/wire.ts';
import { injectPod, type InjectorConfig } from './injector.ts';
import { bodyOf, identityOf, type KumaObject } from './kuma-object.ts';
import { KUMA_GROUP } from './pod-controller.ts';

/**
 * Kuma's admission webhooks (pkg/plugins/runtime/k8s/webhooks) over `admission.k8s.io/v1`
 * AdmissionReview: the sidecar injector (`/inject-sidecar`), answering with the JSON patch from
 * the Pod as it came to the Pod as Kuma would admit it, and the validating webhook
 * (`/validate-kuma-io-v1alpha1`), which runs the same validators as the REST API and refuses an
 * invalid `kuma.io` object with Kuma's field paths (a 422 Status whose causes name each field).
 */

export const INJECTOR_PATH = '/inject-sidecar';
export const VALIDATOR_PATH = '/validate-kuma-io-v1alpha1';

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly namespace?: string;
  readonly name?: string;
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  readonly object?: unknown;
  readonly oldObject?: unknown;
  readonly userInfo?: { readonly username?: string };
  readonly dryRun?: boolean;
}

export interface AdmissionStatus {
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: string;
  readonly code: number;
  readonly details?: { readonly name?: string; readonly kind?: string; readonly causes?: readonly { readonly type: string; readonly message: string; readonly field: string }[] };
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: AdmissionStatus;
  readonly patch?: string;
  readonly patchType?: 'JSONPatch';
  readonly warnings?: readonly string[];
}

/** An AdmissionReview body that is not one: the webhook answers 400 and the API server applies its failure policy. */
export class AdmissionReviewError extends Error {}

/** The request of an AdmissionReview (`admission.k8s.io/v1`), checked as far as the handlers rely on it. */
export function admissionRequestOf(body: unknown): AdmissionRequest {
  const review = body as { apiVersion?: unknown; kind?: unknown; request?: Record<string, unknown> } | null;
  if (!review || typeof review !== 'object' || Array.isArray(review)) throw new AdmissionReviewError('body: must be an AdmissionReview object');
  if (review.kind !== 'AdmissionReview' || review.apiVersion !== 'admission.k8s.io/v1') throw new AdmissionReviewError(`body: must be apiVersion admission.k8s.io/v1, kind AdmissionReview (got ${JSON.stringify(review.apiVersion)}, ${JSON.stringify(review.kind)})`);
  const req = review.request;
  if (!req || typeof req !== 'object' || Array.isArray(req)) throw new AdmissionReviewError('request: is required');
  if (typeof req['uid'] !== 'string' || req['uid'] === '') throw new AdmissionReviewError('request.uid: must be a non-empty string');
  const kind = req['kind'] as Record<string, unknown> | undefined;
  if (!kind || typeof kind['kind'] !== 'string' || typeof kind['version'] !== 'string' || typeof (kind['group'] ?? '') !== 'string') throw new AdmissionReviewError('request.kind: must have group, version and kind');
  if (!['CREATE', 'UPDATE', 'DELETE', 'CONNECT'].includes(req['operation'] as string)) throw new AdmissionReviewError(`request.operation: ${JSON.stringify(req['operation'])} is not CREATE, UPDATE, DELETE or CONNECT`);
  const object = req['object'];
  if (object !== undefined && object !== null && (typeof object !== 'object' || Array.isArray(object))) throw new AdmissionReviewError('request.object: must be an object');
  return req as unknown as AdmissionRequest;
}

export function admissionReview(response: AdmissionResponse): unknown {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

const allowed = (uid: string, warnings?: readonly string[]): AdmissionResponse => ({ uid, allowed: true, ...(warnings?.length ? { warnings } : {}) });
const denied = (uid: string, code: number, reason: string, message: string, details?: AdmissionStatus['details']): AdmissionResponse => ({
  uid,
  allowed: false,
  status: { status: 'Failure', message, reason, code, ...(details ? { details } : {}) },
});

/** What the injector needs to know of the cluster (the Pod controller's caches, read through to the API on a miss). */
export interface InjectorLookups {
  namespace(name: string): Promise<V1Namespace | undefined>;
  meshExists(name: string): Promise<boolean>;
}

export class InjectorWebhook {
  /** Injections done, Pods left alone, Pods refused (metrics and tests). */
  readonly counts = { injected: 0, skipped: 0, refused: 0 };

  constructor(
    private readonly config: () => InjectorConfig,
    private readonly lookups: InjectorLookups,
    private readonly logger: Logger,
  ) {}

  async handle(req: AdmissionRequest): Promise<AdmissionResponse> {
    if (req.kind.group !== '' || req.kind.kind !== 'Pod' || req.operation !== 'CREATE') return allowed(req.uid);
    const pod = structuredClone(req.object) as V1Pod | undefined;
    if (!pod || typeof pod !== 'object') return denied(req.uid, 400, 'BadRequest', 'request.object: the Pod is missing');
    // The request's namespace is the Pod's (the object may not say it yet).
    const namespaceName = req.namespace ?? pod.metadata?.namespace ?? 'default';
    pod.metadata = { ...pod.metadata, namespace: namespaceName };
    const namespace = await this.lookups.namespace(namespaceName);
    const mesh = meshName(pod, namespace);
    const exists = await this.lookups.meshExists(mesh);
    const out = injectPod({ pod, namespace, meshExists: (m) => m === mesh && exists }, this.config());
    const ident = `${namespaceName}/${pod.metadata.name ?? pod.metadata.generateName ?? ''}`;
    if ('skipped' in out) {
      this.counts.skipped++;
      this.logger.debug({ component: 'k8s-injector', pod: ident, reason: out.skipped }, 'not injecting');
      return allowed(req.uid);
    }
    if ('refused' in out) {
      this.counts.refused++;
      this.logger.warn({ component: 'k8s-injector', pod: ident, reason: out.refused }, 'refused a Pod');
      return denied(req.uid, 400, 'BadRequest', out.refused);
    }
    for (const w of out.warnings) this.logger.warn({ component: 'k8s-injector', pod: ident, warning: w }, 'injecting despite a warning');
    this.counts.injected++;
    this.logger.info({ component: 'k8s-injector', pod: ident, mesh: out.mesh }, 'injected the sidecar');
    const patch = fastJsonPatch.compare(req.object as object, out.pod as object);
    return { uid: req.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64'), ...(out.warnings.length ? { warnings: out.warnings } : {}) };
  }
}

/** The mesh the injector will ask about (as injectPod decides it). */
function meshName(pod: V1Pod, namespace: V1Namespace | undefined): string {
  const own = (m: Record<string, string> | undefined, k: string) => (m && Object.hasOwn(m, k) ? m[k] : undefined);
  return own(pod.metadata?.labels, 'kuma.io/mesh') ?? own(pod.metadata?.annotations, 'kuma.io/mesh') ?? own(namespace?.metadata?.labels, 'kuma.io/mesh') ?? own(namespace?.metadata?.annotations, 'kuma.io/mesh') ?? 'default';
}

/**
 * Kuma's validating webhook for `kuma.io` objects: the REST API's validators, Kuma's 422 Status.
 * Dataplanes are the control plane's own (the Pod controller writes them, and a proxy's service
 * account token is checked against their labels): a create or update by anyone but
 * `dataplaneWriters` (the control plane's service account) is refused.
 */
export class ValidatingWebhook {
  constructor(
    private readonly registry: TypeRegistry,
    private readonly opts: { readonly dataplaneWriters: readonly string[] },
  ) {}

  handle(req: AdmissionRequest): AdmissionResponse {
    if (req.kind.group !== KUMA_GROUP || req.operation === 'DELETE' || req.operation === 'CONNECT') return allowed(req.uid);
    const d = this.registry.find(req.kind.kind);
    // Only the types we serve are ours to judge.
    if (!d) return allowed(req.uid);
    const user = req.userInfo?.username ?? '';
    if (d.name === 'Dataplane' && !this.opts.dataplaneWriters.includes(user)) {
      return denied(req.uid, 403, 'Forbidden', `Dataplanes are written by the control plane for the Pods it injects; ${JSON.stringify(user)} may not ${req.operation === 'CREATE' ? 'create' : 'change'} one (only ${this.opts.dataplaneWriters.join(', ')})`);
    }
    const o = req.object as KumaObject | undefined;
    if (!o) return denied(req.uid, 400, 'BadRequest', 'request.object: is missing');
    // Prototype keys in a custom resource are refused with their path, as the REST API refuses them.
    try {
      checkDecoded(o, { maxBytes: Infinity, maxDepth: 100, maxAliases: 0 });
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return denied(req.uid, 422, 'Invalid', err.message, { name: o.metadata?.name ?? req.name ?? '', kind: d.name, causes: [{ type: 'FieldValueInvalid', message: err.reason, field: err.field }] });
    }
    const id = identityOf(d, { ...o, metadata: { ...o.metadata, name: o.metadata?.name ?? req.name ?? '', ...(req.namespace ? { namespace: req.namespace } : {}) } });
    if (!id) return denied(req.uid, 422, 'Invalid', 'metadata.name: is required', { kind: d.name, causes: [{ type: 'FieldValueInvalid', message: 'is required', field: 'metadata.name' }] });
    try {
      decodeResource(bodyOf(d, id, o), this.registry);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const causes = err.violations.map((v) => ({ type: 'FieldValueInvalid', message: v.reason, field: kubernetesField(d.specLayout, v.field) }));
      const message = causes.map((c) => `${c.field}: ${c.message}`).join('; ');
      return denied(req.uid, 422, 'Invalid', message, { name: o.metadata?.name ?? req.name ?? '', kind: d.name, causes });
    }
    return allowed(req.uid);
  }
}

/**
 * Where a violation is in the custom resource: the REST API reports an inline type's fields at the
 * top (`networking.address`) and a nested type's under `spec`; on Kubernetes both are under
 * `spec`, and `labels`/`name` are metadata's.
 */
function kubernetesField(layout: 'inline' | 'nested', field: string): string {
  if (field === 'name' || field === 'labels' || field.startsWith('labels[') || field.startsWith('labels.')) return `metadata.${field}`;
  if (field === 'mesh') return 'mesh';
  if (layout === 'inline' && !field.startsWith('spec')) return `spec.${field}`;
  return field;
}
