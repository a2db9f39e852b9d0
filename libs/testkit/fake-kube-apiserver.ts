import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
 * - Status objects for errors, as the real server sends them.
 * What it does not do (authentication, admission, field managers beyond what is stored, server
 * side apply, strategic merge patch, field selectors) fails loudly rather than silently.
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
  { group: 'apps', version: 'v1', plural: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
];

/** A Kubernetes object as JSON. */
export type KubeObject = { apiVersion?: string; kind?: string; metadata?: Record<string, unknown> & { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> }; [k: string]: unknown };
type WatchEvent = { readonly rv: number; readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: KubeObject };

const MAX_BODY = 3 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
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
      const route = this.route(url.pathname);
      const method = req.method ?? 'GET';
      if (method === 'GET' && route.name === undefined) {
        if (isTrue(url.searchParams.get('watch'))) return this.watch(route, url, res);
        return send(res, 200, this.listBody(route, url));
      }
      if (method === 'GET') return send(res, 200, this.getOne(route));
      // Who writes: `?fieldManager=`, else the client's User-Agent up to its first `/` (as the real server).
      this.manager = url.searchParams.get('fieldManager') ?? (req.headers['user-agent'] ?? 'unknown').split('/')[0]!;
      if (method === 'POST' && route.name === undefined) return send(res, 201, this.create(route, await body(req)));
      if (method === 'PUT' && route.name !== undefined) return send(res, 200, this.update(route, await body(req)));
      if (method === 'PATCH' && route.name !== undefined) {
        const type = req.headers['content-type'] ?? '';
        if (!type.startsWith('application/merge-patch+json')) throw new HttpError(415, 'UnsupportedMediaType', `the fake API server takes only application/merge-patch+json patches, not ${type}`);
        return send(res, 200, this.patch(route, await body(req)));
      }
      if (method === 'DELETE' && route.name !== undefined) return send(res, 200, this.delete(route));
      throw new HttpError(405, 'MethodNotAllowed', `${method} is not supported on ${url.pathname}`);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(500, 'InternalError', (err as Error).message);
      send(res, e.code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, code: e.code });
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

  private create(route: { kind: ResourceKind; namespace?: string }, raw: unknown): KubeObject {
    const o = asObject(raw);
    const name = o.metadata?.name;
    if (typeof name !== 'string' || name === '') throw new HttpError(422, 'Invalid', `${route.kind.kind} "" is invalid: metadata.name: Required value: name is required`);
    if (route.namespace !== undefined && o.metadata?.namespace !== undefined && o.metadata.namespace !== route.namespace)
      throw new HttpError(400, 'BadRequest', `the namespace of the provided object (${o.metadata.namespace}) does not match the namespace sent on the request (${route.namespace})`);
    const key = objectKey(route.namespace, name);
    if (this.store(route.kind).has(key)) throw new HttpError(409, 'AlreadyExists', `${route.kind.plural} "${name}" already exists`);
    return this.write(route.kind, { ...o, metadata: { ...o.metadata, ...(route.namespace !== undefined ? { namespace: route.namespace } : {}) } }, 'ADDED');
  }

  private update(route: { kind: ResourceKind; namespace?: string; name?: string; subresource?: string }, raw: unknown): KubeObject {
    const o = asObject(raw);
    const old = this.getOne(route);
    const given = o.metadata?.resourceVersion;
    if (given !== undefined && given !== old.metadata?.resourceVersion)
      throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${route.kind.plural} "${route.name}": the object has been modified; please apply your changes to the latest version and try again`);
    // The status subresource changes only the status; the main resource, everything but it.
    const next: KubeObject = route.subresource === 'status' ? { ...old, status: o['status'] } : { ...o, ...(old['status'] !== undefined ? { status: old['status'] } : {}) };
    next.metadata = { ...old.metadata, ...(route.subresource === 'status' ? {} : { labels: o.metadata?.labels, annotations: o.metadata?.annotations }) };
    return this.write(route.kind, next, 'MODIFIED');
  }

  private patch(route: { kind: ResourceKind; namespace?: string; name?: string; subresource?: string }, raw: unknown): KubeObject {
    const old = this.getOne(route);
    const patched = mergePatch(old, raw) as KubeObject;
    const given = asObject(raw).metadata?.resourceVersion;
    if (given !== undefined && given !== old.metadata?.resourceVersion) throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${route.kind.plural} "${route.name}": the object has been modified`);
    patched.metadata = { ...patched.metadata, name: old.metadata?.name, namespace: old.metadata?.namespace, uid: old.metadata?.['uid'] };
    return this.write(route.kind, patched, 'MODIFIED');
  }

  private delete(route: { kind: ResourceKind; namespace?: string; name?: string }): unknown {
    const old = this.getOne(route);
    this.remove(route.kind, route.namespace, route.name!);
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: route.name, kind: route.kind.plural, uid: old.metadata?.['uid'] } };
  }

  /** The field manager of the request being handled (undefined for direct writes, whose managedFields are kept as given). */
  private manager: string | undefined;

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
