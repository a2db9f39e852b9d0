import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { stringify } from 'yaml';
import { mergePatch } from '../policies/core/merge.ts';

/**
 * A FAKE Kubernetes API server: a test double, not Kubernetes. No cluster can run on the
 * machines these tests run on, so Kubernetes mode is tested against this instead. It speaks the
 * HTTP protocol as @kubernetes/client-node uses it, for any resource it is told about:
 * - lists with a `resourceVersion` (one counter for all objects, as etcd's revision), `limit`
 *   and `continue`, and `labelSelector` equality terms;
 * - watches (`?watch=true`) from a resourceVersion as newline-delimited JSON over a chunked
 *   response, `timeoutSeconds`, BOOKMARK events when `allowWatchBookmarks` asks, and the 410 Gone
 *   that a real server gives a watch from before its compacted history (`compact()`): an ERROR
 *   event with a Status of code 410, then the end of the stream;
 * - create (409 AlreadyExists), update with optimistic concurrency on `metadata.resourceVersion`
 *   (409 Conflict), the `status` subresource, JSON merge patch, delete;
 * - Status objects for errors, as the real server sends them;
 * - `generateName`;
 * - TokenReview (`authentication.k8s.io/v1`) of the service account tokens it issued
 *   (`serviceAccountToken()`), as a projected token volume would hold them;
 * - admission webhooks: the MutatingWebhookConfigurations and then the
 *   ValidatingWebhookConfigurations stored in it are called, as the real server calls them, for
 *   creates and updates their rules match (operations, apiGroups, apiVersions, resources;
 *   namespaceSelector and objectSelector with matchLabels and matchExpressions), over HTTPS to
 *   `clientConfig.url` (or `clientConfig.service`, through `serviceEndpoints`, verifying the
 *   certificate for `<service>.<namespace>.svc`) trusting only `clientConfig.caBundle`, with an `admission.k8s.io/v1`
 *   AdmissionReview; a JSONPatch answer is applied; a denial or a failed call (failurePolicy
 *   Fail) refuses the write with the webhook's Status, as the real server words it.
 * What it does not do (authentication, field managers beyond what is stored, server side apply,
 * strategic merge patch, field selectors)
 * fails loudly rather than silently.
 */

export interface ResourceKind {
  /** '' for the core group (`/api/v1`). */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export const CORE_KINDS: readonly ResourceKind[] = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false },
  { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false },
];

/** The kuma.io custom resource kinds of a type registry, for the fake to serve. */
export function kumaKinds(types: readonly { readonly name: string; readonly plural: string; readonly kubernetesScope?: 'Namespaced' | 'Cluster' }[]): ResourceKind[] {
  return types.filter((d) => d.kubernetesScope !== undefined).map((d) => ({ group: 'kuma.io', version: 'v1alpha1', plural: d.plural, kind: d.name, namespaced: d.kubernetesScope === 'Namespaced' }));
}

const byPlural = (plural: string) => CORE_KINDS.find((k) => k.plural === plural)!;
export const MUTATING_WEBHOOKS = byPlural('mutatingwebhookconfigurations');
export const VALIDATING_WEBHOOKS = byPlural('validatingwebhookconfigurations');

/** A Kubernetes object as JSON. */
export type KubeObject = { apiVersion?: string; kind?: string; metadata?: Record<string, unknown> & { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> }; [k: string]: unknown };
type WatchEvent = { readonly rv: number; readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: KubeObject };

const MAX_BODY = 3 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** A webhook of a Mutating- or ValidatingWebhookConfiguration, as far as the fake reads it. */
interface Webhook {
  name: string;
  clientConfig?: { url?: string; caBundle?: string; service?: { name: string; namespace: string; path?: string; port?: number } };
  rules?: { operations?: string[]; apiGroups?: string[]; apiVersions?: string[]; resources?: string[] }[];
  failurePolicy?: 'Fail' | 'Ignore';
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  timeoutSeconds?: number;
}
interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export class FakeKubeApiServer {
  private readonly kinds = new Map<string, ResourceKind>();
  /** Per kind key: `namespace/name` -> object. */
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history = new Map<string, WatchEvent[]>();
  private readonly watchers = new Map<string, Set<(e: WatchEvent) => void>>();
  private rv = 100;
  /** Watches from a resourceVersion at or below this get 410 Gone. */
  private compactedTo = 0;
  /** Open watches, and what stops each (unsubscribes it before its response ends). */
  private readonly open = new Map<ServerResponse, () => void>();
  /** Every request, as `METHOD path?query` (tests read what a client asked). */
  readonly requests: string[] = [];

  private constructor(
    private readonly server: Server,
    kinds: readonly ResourceKind[],
  ) {
    for (const k of kinds) this.kinds.set(kindKey(k.group, k.version, k.plural), k);
  }

  static async start(kinds: readonly ResourceKind[] = CORE_KINDS): Promise<FakeKubeApiServer> {
    const server = createServer();
    const fake = new FakeKubeApiServer(server, kinds);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A kubeconfig (as `KubeConfig.loadFromOptions` takes it) for this server. */
  kubeconfig() {
    return {
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake', token: 'fake-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    };
  }

  /**
   * A kubeconfig file for this server (as KUBECONFIG takes it) in `dir`, with `token` as the user's
   * bearer token. client-node refuses plain HTTP unless TLS verification is off: the fake speaks HTTP only.
   */
  kubeconfigFile(dir: string, token = 'fake-token'): string {
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'kuma-cp', user: { token } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'kuma-cp' } }],
        'current-context': 'fake',
      }),
    );
    return file;
  }

  /** What `kubectl apply` of a new object sends: a POST of it to `path` (`/api/v1/namespaces/shop/pods`), as field manager kubectl-client-side-apply. */
  kubectlCreate(path: string, object: KubeObject): Promise<Response> {
    return fetch(`${this.url}${path}?fieldManager=kubectl-client-side-apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(object) });
  }

  /** The current resourceVersion (the last one given out). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Forgets the watch history up to now: a watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.compactedTo = this.rv;
    for (const h of this.history.values()) h.length = 0;
  }

  /** Ends every open watch, as a server restart or a load balancer does. */
  dropWatches(): void {
    for (const [res, stop] of [...this.open]) {
      stop();
      res.end();
    }
  }

  /** Open watches receive nothing until `expireWatches` (a watcher fallen behind, a partition). */
  pauseWatches(): void {
    this.paused = true;
  }

  /**
   * What a real server does to a watcher that fell too far behind: compacts the history, sends
   * every open watch an ERROR event with a 410 Status and ends it. Watches are live again after.
   */
  expireWatches(): void {
    this.compact();
    for (const [res, stop] of [...this.open]) {
      stop();
      res.end(`${JSON.stringify({ type: 'ERROR', object: this.expired(0) })}\n`);
    }
    this.paused = false;
  }

  private paused = false;
  private failing = 0;

  /** The next `n` requests answer 500 InternalError (a server in trouble). */
  failNext(n: number): void {
    this.failing = n;
  }

  private expired(from: number) {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${this.compactedTo})`, reason: 'Expired', code: 410 };
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- direct access, for tests arranging state -------------------------------------------

  /** Creates or replaces an object as a controller writing to the API would; returns it stored. */
  put(kind: ResourceKind, object: KubeObject): KubeObject {
    this.manager = undefined;
    const k = this.kindOf(kind);
    const key = objectKey(object.metadata?.namespace, object.metadata?.name ?? '');
    const exists = this.store(k).has(key);
    return this.write(k, structuredClone(object), exists ? 'MODIFIED' : 'ADDED');
  }

  get(kind: ResourceKind, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.store(this.kindOf(kind)).get(objectKey(namespace, name));
    return o && structuredClone(o);
  }

  list(kind: ResourceKind): KubeObject[] {
    return [...this.store(this.kindOf(kind)).values()].map((o) => structuredClone(o));
  }

  remove(kind: ResourceKind, namespace: string | undefined, name: string): void {
    const k = this.kindOf(kind);
    const key = objectKey(namespace, name);
    const old = this.store(k).get(key);
    if (!old) return;
    this.store(k).delete(key);
    this.emit(k, 'DELETED', { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.rv) } });
  }

  // ---- HTTP -------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    try {
      if (this.failing > 0) {
        this.failing--;
        throw new HttpError(500, 'InternalError', 'the fake API server was told to fail this request');
      }
      const method = req.method ?? 'GET';
      if (url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews' && method === 'POST') return send(res, 201, this.tokenReview(await body(req)));
      const route = this.route(url.pathname);
      if (method === 'GET' && route.name === undefined) {
        if (isTrue(url.searchParams.get('watch'))) return this.watch(route, url, res);
        return send(res, 200, this.listBody(route, url));
      }
      if (method === 'GET') return send(res, 200, this.getOne(route));
      const write = method === 'POST' || method === 'PUT' || method === 'PATCH';
      if (method === 'PATCH') {
        const type = req.headers['content-type'] ?? '';
        if (!type.startsWith('application/merge-patch+json')) throw new HttpError(415, 'UnsupportedMediaType', `the fake API server takes only application/merge-patch+json patches, not ${type}`);
      }
      // The body first: who writes is set just before the write begins (no other request runs in between).
      const raw = write ? await body(req) : undefined;
      // Who writes: `?fieldManager=`, else the client's User-Agent up to its first `/` (as the real server).
      this.manager = url.searchParams.get('fieldManager') ?? (req.headers['user-agent'] ?? 'unknown').split('/')[0]!;
      const bearer = /^Bearer (.+)$/i.exec(req.headers['authorization'] ?? '')?.[1];
      this.user = (bearer !== undefined ? this.users.get(bearer) : undefined) ?? 'system:admin';
      if (method === 'POST' && route.name === undefined) return send(res, 201, await this.create(route, raw));
      if (method === 'PUT' && route.name !== undefined) return send(res, 200, await this.update(route, raw));
      if (method === 'PATCH' && route.name !== undefined) return send(res, 200, await this.patch(route, raw));
      if (method === 'DELETE' && route.name !== undefined) return send(res, 200, this.delete(route));
      throw new HttpError(405, 'MethodNotAllowed', `${method} is not supported on ${url.pathname}`);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'InternalError', (err as Error).message);
      send(res, e.code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, ...(e.details ? { details: e.details } : {}), code: e.code });
    }
  }

  private route(path: string): { kind: ResourceKind; namespace?: string; name?: string; subresource?: string } {
    const parts = path.split('/').filter((p) => p !== '');
    let group: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 2) [group, rest] = ['', parts.slice(1)];
    else if (parts[0] === 'apis' && parts.length >= 3) [group, rest] = [parts[1]!, parts.slice(2)];
    else throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${path})`);
    const version = rest[0]!;
    let namespace: string | undefined;
    let tail = rest.slice(1);
    // `/namespaces/<ns>/<plural>...` unless it is the namespaces resource itself (`/namespaces[/<name>]`).
    if (tail[0] === 'namespaces' && tail.length >= 3) [namespace, tail] = [tail[1]!, tail.slice(2)];
    const kind = this.kinds.get(kindKey(group, version, tail[0] ?? ''));
    if (!kind || tail.length > 3) throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${path})`);
    if (kind.namespaced === false && namespace !== undefined) throw new HttpError(404, 'NotFound', `${kind.plural} is not namespaced`);
    const subresource = tail[2];
    if (subresource !== undefined && subresource !== 'status') throw new HttpError(404, 'NotFound', `the fake API server has no subresource ${subresource}`);
    return { kind, ...(namespace !== undefined ? { namespace } : {}), ...(tail[1] !== undefined ? { name: tail[1] } : {}), ...(subresource ? { subresource } : {}) };
  }

  private listBody(route: { kind: ResourceKind; namespace?: string }, url: URL): unknown {
    const selector = parseSelector(url.searchParams.get('labelSelector'));
    if (url.searchParams.get('fieldSelector')) throw new HttpError(400, 'BadRequest', 'the fake API server does not support fieldSelector');
    const all = [...this.store(route.kind).values()]
      .filter((o) => route.namespace === undefined || o.metadata?.namespace === route.namespace)
      .filter((o) => selector.every(([k, v]) => o.metadata?.labels?.[k] === v))
      .sort((a, b) => objectKey(a.metadata?.namespace, a.metadata?.name ?? '').localeCompare(objectKey(b.metadata?.namespace, b.metadata?.name ?? '')));
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const from = Number(url.searchParams.get('continue') ?? 0);
    const items = limit > 0 ? all.slice(from, from + limit) : all.slice(from);
    const more = limit > 0 && from + limit < all.length;
    const apiVersion = route.kind.group ? `${route.kind.group}/${route.kind.version}` : route.kind.version;
    return { kind: `${route.kind.kind}List`, apiVersion, metadata: { resourceVersion: String(this.rv), ...(more ? { continue: String(from + limit) } : {}) }, items };
  }

  private watch(route: { kind: ResourceKind; namespace?: string }, url: URL, res: ServerResponse): void {
    const k = route.kind;
    const selector = parseSelector(url.searchParams.get('labelSelector'));
    const from = Number(url.searchParams.get('resourceVersion') || this.rv);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // As a real server: the headers go out at once, not with the first event (a client waits for them).
    res.flushHeaders();
    const matches = (o: KubeObject) => (route.namespace === undefined || o.metadata?.namespace === route.namespace) && selector.every(([key, v]) => o.metadata?.labels?.[key] === v);
    const line = (v: unknown) => {
      if (!res.writableEnded) res.write(`${JSON.stringify(v)}\n`);
    };
    if (from < this.compactedTo) {
      line({ type: 'ERROR', object: this.expired(from) });
      res.end();
      return;
    }
    for (const e of this.history.get(kindKey(k.group, k.version, k.plural)) ?? []) if (e.rv > from && matches(e.object)) line({ type: e.type, object: e.object });
    const onEvent = (e: WatchEvent) => {
      if (!this.paused && matches(e.object)) line({ type: e.type, object: e.object });
    };
    const key = kindKey(k.group, k.version, k.plural);
    if (!this.watchers.has(key)) this.watchers.set(key, new Set());
    this.watchers.get(key)!.add(onEvent);
    const bookmarks = isTrue(url.searchParams.get('allowWatchBookmarks'))
      ? setInterval(() => line({ type: 'BOOKMARK', object: { kind: k.kind, apiVersion: k.group ? `${k.group}/${k.version}` : k.version, metadata: { resourceVersion: String(this.rv) } } }), 200)
      : undefined;
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => (stop(), res.end()), timeout * 1000) : undefined;
    const stop = () => {
      this.watchers.get(key)?.delete(onEvent);
      this.open.delete(res);
      clearInterval(bookmarks);
      clearTimeout(timer);
    };
    this.open.set(res, stop);
    res.on('close', stop);
    res.on('finish', stop);
  }

  private getOne(route: { kind: ResourceKind; namespace?: string; name?: string }): KubeObject {
    const o = this.store(route.kind).get(objectKey(route.namespace, route.name!));
    if (!o) throw notFound(route.kind, route.name!);
    return o;
  }

  private async create(route: { kind: ResourceKind; namespace?: string }, raw: unknown): Promise<KubeObject> {
    const manager = this.manager;
    const user = this.user;
    let o = asObject(raw);
    if (route.namespace !== undefined && o.metadata?.namespace !== undefined && o.metadata.namespace !== route.namespace)
      throw new HttpError(400, 'BadRequest', `the namespace of the provided object (${o.metadata.namespace}) does not match the namespace sent on the request (${route.namespace})`);
    // As the real server: admission sees the object before a generated name is given.
    o = await this.admit(route.kind, 'CREATE', { ...o, metadata: { ...o.metadata, ...(route.namespace !== undefined ? { namespace: route.namespace } : {}) } }, undefined, user);
    const generate = o.metadata?.['generateName'];
    const name = o.metadata?.name || (typeof generate === 'string' && generate !== '' ? `${generate}${randomBytes(3).toString('hex').slice(0, 5)}` : undefined);
    if (typeof name !== 'string' || name === '') throw new HttpError(422, 'Invalid', `${route.kind.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
    const key = objectKey(route.namespace, name);
    if (this.store(route.kind).has(key)) throw new HttpError(409, 'AlreadyExists', `${route.kind.plural} "${name}" already exists`);
    this.manager = manager;
    return this.write(route.kind, { ...o, metadata: { ...o.metadata, name } }, 'ADDED');
  }

  private async update(route: { kind: ResourceKind; namespace?: string; name?: string; subresource?: string }, raw: unknown): Promise<KubeObject> {
    const manager = this.manager;
    const user = this.user;
    const old = this.getOne(route);
    const given = asObject(raw).metadata?.resourceVersion;
    if (given !== undefined && given !== old.metadata?.resourceVersion) throw conflict(route);
    const o = route.subresource === 'status' ? asObject(raw) : await this.admit(route.kind, 'UPDATE', asObject(raw), old, user);
    // What changed while the webhooks were asked wins: this write conflicts.
    if (this.getOne(route).metadata?.resourceVersion !== old.metadata?.resourceVersion) throw conflict(route);
    this.manager = manager;
    // The status subresource changes only the status; the main resource, everything but it.
    const next: KubeObject = route.subresource === 'status' ? { ...old, status: o['status'] } : { ...o, ...(old['status'] !== undefined ? { status: old['status'] } : {}) };
    next.metadata = { ...old.metadata, ...(route.subresource === 'status' ? {} : { labels: o.metadata?.labels, annotations: o.metadata?.annotations }) };
    return this.write(route.kind, next, 'MODIFIED');
  }

  private async patch(route: { kind: ResourceKind; namespace?: string; name?: string; subresource?: string }, raw: unknown): Promise<KubeObject> {
    const manager = this.manager;
    const user = this.user;
    const old = this.getOne(route);
    let patched = mergePatch(old, raw) as KubeObject;
    const given = asObject(raw).metadata?.resourceVersion;
    if (given !== undefined && given !== old.metadata?.resourceVersion) throw conflict(route);
    patched.metadata = { ...patched.metadata, name: old.metadata?.name, namespace: old.metadata?.namespace, uid: old.metadata?.['uid'] };
    if (route.subresource !== 'status') patched = await this.admit(route.kind, 'UPDATE', patched, old, user);
    if (this.getOne(route).metadata?.resourceVersion !== old.metadata?.resourceVersion) throw conflict(route);
    this.manager = manager;
    return this.write(route.kind, patched, 'MODIFIED');
  }

  // ---- service account tokens ---------------------------------------------------------------

  private readonly tokens = new Map<string, { namespace: string; serviceAccount: string; pod?: string }>();
  /** Who a bearer token is (the `userInfo.username` admission webhooks are told); an unknown token is `system:admin`. */
  readonly users = new Map<string, string>();
  /** TokenReviews asked (tests count them). */
  tokenReviews = 0;

  /** A token of the service account, as the kubelet projects one into a Pod (opaque here; only TokenReview tells what it is). */
  serviceAccountToken(namespace: string, serviceAccount: string, pod?: string): string {
    const token = `fake-sa.${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { namespace, serviceAccount, ...(pod ? { pod } : {}) });
    return token;
  }

  /** Revokes a token (a deleted service account or Pod). */
  revokeToken(token: string): void {
    this.tokens.delete(token);
  }

  private tokenReview(raw: unknown): unknown {
    this.tokenReviews++;
    const o = asObject(raw);
    const token = (o['spec'] as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token === '') throw new HttpError(422, 'Invalid', 'TokenReview.authentication.k8s.io "" is invalid: spec.token: Required value');
    const who = this.tokens.get(token);
    const status = who
      ? {
          authenticated: true,
          user: {
            username: `system:serviceaccount:${who.namespace}:${who.serviceAccount}`,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${who.namespace}`, 'system:authenticated'],
            ...(who.pod ? { extra: { 'authentication.kubernetes.io/pod-name': [who.pod] } } : {}),
          },
        }
      : { authenticated: false, error: 'invalid bearer token' };
    return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, spec: { token }, status };
  }

  // ---- admission ---------------------------------------------------------------------------

  /** Where a Service's port is reached (`<namespace>/<name>:<port>` -> `host:port`): what kube-proxy does for webhooks given by `clientConfig.service`. */
  readonly serviceEndpoints = new Map<string, string>();

  /** Admission requests sent (tests read what a webhook was asked). */
  readonly admissionRequests: { webhook: string; operation: string; kind: string }[] = [];

  /** Runs the mutating webhooks (applying their patches) and then the validating ones on a write; throws what the real server answers when one refuses. */
  private async admit(kind: ResourceKind, operation: 'CREATE' | 'UPDATE', object: KubeObject, old: KubeObject | undefined, user: string): Promise<KubeObject> {
    let o = object;
    for (const [configs, mutating] of [[MUTATING_WEBHOOKS, true], [VALIDATING_WEBHOOKS, false]] as const) {
      if (!this.kinds.has(kindKey(configs.group, configs.version, configs.plural))) continue;
      const hooks = [...this.store(configs).values()]
        .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
        .flatMap((c) => ((c['webhooks'] as Webhook[] | undefined) ?? []));
      for (const hook of hooks) {
        if (!this.hookMatches(hook, kind, operation, o)) continue;
        const response = await this.callWebhook(hook, kind, operation, o, old, user);
        if (!response) continue;
        if (!response.allowed) {
          const status = response.status ?? {};
          throw new HttpError(status.code ?? 400, status.reason ?? 'BadRequest', `admission webhook "${hook.name}" denied the request: ${status.message ?? 'without explanation'}`, status.details);
        }
        if (mutating && response.patch) {
          if (response.patchType !== 'JSONPatch') throw new HttpError(500, 'InternalError', `Internal error occurred: admission webhook "${hook.name}" returned a patch of type ${String(response.patchType)}`);
          let ops: Operation[];
          try {
            ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Operation[];
            o = fastJsonPatch.applyPatch(structuredClone(o), ops, true, false).newDocument as KubeObject;
          } catch (err) {
            throw new HttpError(500, 'InternalError', `Internal error occurred: admission webhook "${hook.name}" returned a patch that does not apply: ${(err as Error).message}`);
          }
        }
      }
    }
    return o;
  }

  private hookMatches(hook: Webhook, kind: ResourceKind, operation: string, o: KubeObject): boolean {
    const any = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x === '*' || x === v);
    if (!(hook.rules ?? []).some((r) => any(r.operations, operation) && any(r.apiGroups, kind.group) && any(r.apiVersions, kind.version) && any(r.resources, kind.plural))) return false;
    if (hook.objectSelector && !selectorMatches(hook.objectSelector, o.metadata?.labels ?? {})) return false;
    if (hook.namespaceSelector) {
      const labels = kind.plural === 'namespaces' ? o.metadata?.labels : kind.namespaced ? this.get(byPlural('namespaces'), undefined, o.metadata?.namespace ?? 'default')?.metadata?.labels : undefined;
      // A cluster-scoped object (not a Namespace) is never excluded by a namespaceSelector.
      if ((kind.namespaced || kind.plural === 'namespaces') && !selectorMatches(hook.namespaceSelector, labels ?? {})) return false;
    }
    return true;
  }

  private async callWebhook(hook: Webhook, kind: ResourceKind, operation: string, o: KubeObject, old: KubeObject | undefined, user: string): Promise<AdmissionResponse | undefined> {
    const uid = randomUUID();
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group: kind.group, version: kind.version, kind: kind.kind },
        resource: { group: kind.group, version: kind.version, resource: kind.plural },
        requestKind: { group: kind.group, version: kind.version, kind: kind.kind },
        ...(o.metadata?.name ? { name: o.metadata.name } : {}),
        ...(kind.namespaced ? { namespace: o.metadata?.namespace ?? 'default' } : {}),
        operation,
        userInfo: { username: user },
        object: o,
        ...(old ? { oldObject: old } : {}),
        dryRun: false,
      },
    };
    this.admissionRequests.push({ webhook: hook.name, operation, kind: kind.kind });
    const fail = (why: string) => {
      if (hook.failurePolicy === 'Ignore') return undefined;
      throw new HttpError(500, 'InternalError', `Internal error occurred: failed calling webhook "${hook.name}": ${why}`);
    };
    let target: { url: string; servername?: string };
    if (hook.clientConfig?.url) target = { url: hook.clientConfig.url };
    else if (hook.clientConfig?.service) {
      // As the real server: dial the Service, verify the certificate for <name>.<namespace>.svc.
      const svc = hook.clientConfig.service;
      const endpoint = this.serviceEndpoints.get(`${svc.namespace}/${svc.name}:${svc.port ?? 443}`);
      if (!endpoint) return fail(`service "${svc.namespace}/${svc.name}" port ${svc.port ?? 443} has no endpoint (fake: serviceEndpoints)`);
      target = { url: `https://${endpoint}${svc.path ?? ''}`, servername: `${svc.name}.${svc.namespace}.svc` };
    } else throw new HttpError(500, 'InternalError', `webhook "${hook.name}" has neither clientConfig.url nor clientConfig.service`);
    let text: string;
    try {
      text = await post(target, hook.clientConfig?.caBundle ? Buffer.from(hook.clientConfig.caBundle, 'base64').toString('utf8') : undefined, JSON.stringify(review), (hook.timeoutSeconds ?? 10) * 1000);
    } catch (err) {
      return fail((err as Error).message);
    }
    let answer: { response?: AdmissionResponse };
    try {
      answer = JSON.parse(text) as { response?: AdmissionResponse };
    } catch {
      return fail('the webhook did not answer with JSON');
    }
    if (!answer.response || answer.response.uid !== uid) return fail(`expected response.uid="${uid}", got ${JSON.stringify(answer.response?.uid)}`);
    return answer.response;
  }

  private delete(route: { kind: ResourceKind; namespace?: string; name?: string }): unknown {
    const old = this.getOne(route);
    this.remove(route.kind, route.namespace, route.name!);
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: route.name, kind: route.kind.plural, uid: old.metadata?.['uid'] } };
  }

  /** The field manager of the request being handled (undefined for direct writes, whose managedFields are kept as given). */
  private manager: string | undefined;
  /** Who makes the request being handled. */
  private user = 'system:admin';

  /** The object's managedFields with `manager`'s entry now the latest. */
  private managedFields(kind: ResourceKind, o: KubeObject, old: KubeObject | undefined): unknown[] | undefined {
    const given = (old?.metadata?.['managedFields'] ?? o.metadata?.['managedFields']) as { manager?: string }[] | undefined;
    if (this.manager === undefined) return (o.metadata?.['managedFields'] as unknown[] | undefined) ?? given;
    const others = (given ?? []).filter((f) => f.manager !== this.manager);
    return [...others, { manager: this.manager, operation: 'Update', apiVersion: kind.group ? `${kind.group}/${kind.version}` : kind.version, time: `${new Date().toISOString().slice(0, 19)}Z`, fieldsType: 'FieldsV1' }];
  }

  private write(kind: ResourceKind, o: KubeObject, type: 'ADDED' | 'MODIFIED'): KubeObject {
    const name = o.metadata?.name ?? '';
    const key = objectKey(kind.namespaced ? o.metadata?.namespace : undefined, name);
    const old = this.store(kind).get(key);
    const stored: KubeObject = {
      ...o,
      apiVersion: kind.group ? `${kind.group}/${kind.version}` : kind.version,
      kind: kind.kind,
      metadata: {
        ...o.metadata,
        name,
        // As the real server: every Namespace carries its name as a label (namespaceSelectors use it).
        ...(kind.group === '' && kind.plural === 'namespaces' ? { labels: { ...(o.metadata?.labels ?? {}), 'kubernetes.io/metadata.name': name } } : {}),
        ...(kind.namespaced ? { namespace: o.metadata?.namespace ?? 'default' } : {}),
        uid: (old?.metadata?.['uid'] as string | undefined) ?? (o.metadata?.['uid'] as string | undefined) ?? randomUUID(),
        creationTimestamp: (old?.metadata?.['creationTimestamp'] as string | undefined) ?? new Date().toISOString(),
        resourceVersion: String(++this.rv),
      },
    };
    const managed = this.managedFields(kind, o, old);
    if (managed) stored.metadata!['managedFields'] = managed;
    this.manager = undefined;
    this.store(kind).set(key, stored);
    this.emit(kind, type, stored);
    return structuredClone(stored);
  }

  private emit(kind: ResourceKind, type: WatchEvent['type'], object: KubeObject): void {
    const key = kindKey(kind.group, kind.version, kind.plural);
    const e: WatchEvent = { rv: Number(object.metadata?.resourceVersion), type, object: structuredClone(object) };
    let h = this.history.get(key);
    if (!h) this.history.set(key, (h = []));
    h.push(e);
    for (const w of this.watchers.get(key) ?? []) w(e);
  }

  private kindOf(kind: ResourceKind): ResourceKind {
    const k = this.kinds.get(kindKey(kind.group, kind.version, kind.plural));
    if (!k) throw new Error(`the fake API server was not told about ${kind.plural}`);
    return k;
  }

  private store(kind: ResourceKind): Map<string, KubeObject> {
    const key = kindKey(kind.group, kind.version, kind.plural);
    let m = this.objects.get(key);
    if (!m) this.objects.set(key, (m = new Map()));
    return m;
  }
}

const kindKey = (group: string, version: string, plural: string) => `${group}/${version}/${plural}`;
const conflict = (route: { kind: ResourceKind; name?: string }) =>
  new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${route.kind.plural} "${route.name}": the object has been modified; please apply your changes to the latest version and try again`);

interface AdmissionResponse {
  uid?: string;
  allowed?: boolean;
  status?: { code?: number; reason?: string; message?: string; details?: unknown };
  patch?: string;
  patchType?: string;
}

function selectorMatches(s: LabelSelector, labels: Record<string, string>): boolean {
  const has = (k: string) => Object.hasOwn(labels, k);
  if (!Object.entries(s.matchLabels ?? {}).every(([k, v]) => has(k) && labels[k] === v)) return false;
  return (s.matchExpressions ?? []).every((e) => {
    if (e.operator === 'Exists') return has(e.key);
    if (e.operator === 'DoesNotExist') return !has(e.key);
    if (e.operator === 'In') return has(e.key) && (e.values ?? []).includes(labels[e.key]!);
    if (e.operator === 'NotIn') return !has(e.key) || !(e.values ?? []).includes(labels[e.key]!);
    throw new HttpError(400, 'BadRequest', `unknown selector operator ${String(e.operator)}`);
  });
}

/** POSTs JSON to a webhook over HTTPS, trusting only `ca` (and verifying the certificate for `servername` when given); resolves with the body of a 200. */
function post(target: { url: string; servername?: string }, ca: string | undefined, body: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(target.url);
    if (u.protocol !== 'https:') return reject(new Error(`webhook URL must be https, got ${target.url}`));
    const req = httpsRequest(u, { method: 'POST', ...(ca ? { ca } : {}), ...(target.servername ? { servername: target.servername } : {}), headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`the server responded with ${res.statusCode}: ${text.slice(0, 300)}`));
        else resolve(text);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`context deadline exceeded (${timeoutMs} ms)`)));
    req.on('error', reject);
    req.end(body);
  });
}
const objectKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;
const isTrue = (v: string | null) => v === 'true' || v === '1';
const notFound = (kind: ResourceKind, name: string) => new HttpError(404, 'NotFound', `${kind.plural} "${name}" not found`);

function send(res: ServerResponse, code: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new HttpError(413, 'RequestEntityTooLarge', 'request entity too large');
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (err) {
    throw new HttpError(400, 'BadRequest', `the body is not JSON: ${(err as Error).message}`);
  }
}

function asObject(v: unknown): KubeObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'BadRequest', 'the body must be a JSON object');
  return v as KubeObject;
}

/** `a=b,c==d` terms; anything else (sets, inequality) is refused rather than ignored. */
function parseSelector(s: string | null): [string, string][] {
  if (!s) return [];
  return s.split(',').map((term) => {
    const m = /^([^=!]+)==?([^=]*)$/.exec(term.trim());
    if (!m) throw new HttpError(400, 'BadRequest', `the fake API server supports only equality label selectors, not "${term}"`);
    return [m[1]!.trim(), m[2]!.trim()];
  });
}
