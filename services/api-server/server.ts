import { KUMA_VERSION } from '../../libs/platform/version.ts';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHttpServer } from '../../libs/platform/http-server.ts';
import type { Logger } from 'pino';
import type { Actor, StoredEvent } from '../../libs/event-log/event.ts';
import { EventLogUnavailableError, EventTooLargeError, VersionConflictError } from '../../libs/event-log/errors.ts';
import type { Metrics } from '../../libs/platform/metrics.ts';
import { ProjectionTimeoutError, type LiveProjection } from '../../libs/projection/live-projection.ts';
import { DataplaneType } from '../../libs/resources/dataplane.ts';
import type { ResourceTypeDescriptor } from '../../libs/resources/descriptor.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import { UnknownTypeError, type TypeRegistry } from '../../libs/resources/registry.ts';
import { ValidationError } from '../../libs/resources/validation.ts';
import { decodeResource, encodeResource, warningsFor } from '../../libs/resources/wire.ts';
import type { EventLog } from '../../libs/event-log/port.ts';
import type { CheckpointStore } from '../../libs/projection/checkpoint.ts';
import type { CurrentState } from '../../libs/projection/current-state.ts';
import type { StateHistory } from '../../libs/projection/time-travel.ts';
import type { TranslationPlugin } from '../../libs/xds/generate/plugin.ts';
import type { OutboundTrim } from '../../libs/xds/generate/context.ts';
import { SecretRedactor } from '../../libs/secrets/redactor.ts';
import { addAuditRoutes, stateForRead } from './audit-routes.ts';
import { DEFAULT_ACCESS, mustRedactSecrets, staticAccessControl, type AccessControl } from './access.ts';
import { isLoopback, noApiAuthentication, principalOf, type ApiAuthenticator } from './authn.ts';
import { parseBody } from '../../libs/platform/request-body.ts';
import { historyOf } from './history.ts';
import { ResourceNotFoundError } from './commands.ts';
import { ApiError, errorBody, meshNotFound, meshNotFoundForRead, notFound } from '../../libs/platform/api-errors.ts';
import { addInspectRoutes } from './inspect-routes.ts';
import { addKriRoutes } from './kri-route.ts';
import { formatResource } from './format.ts';
import { filterResources, paginate, parsePage, type Status } from './listing.ts';
import { dataplaneStatus, encodeDataplaneOverview } from './overview.ts';
import { checkPathParams } from './path-params.ts';
import { makeRequestGuard, type RequestGuardOptions } from './request-guard.ts';
import type { ResourceService } from './resource-service.ts';

export { KUMA_VERSION };

/** Digests under a random key of this process: never plaintext, but not comparable across processes. */
function ephemeralRedactor(registry: TypeRegistry): SecretRedactor {
  const key = randomBytes(32);
  return new SecretRedactor(
    (type) => registry.find(type)?.confidential === true,
    (c) => `hmac-sha256:${createHmac('sha256', key).update(c).digest('hex')}`,
  );
}

export interface ApiServerDeps {
  readonly registry: TypeRegistry;
  readonly projection: LiveProjection;
  readonly service: ResourceService;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly bodyLimit: number;
  readonly readOnly?: boolean;
  /** What a refused write is told (Kubernetes mode names kubectl). */
  readonly readOnlyReason?: string;
  readonly instanceId: string;
  /** Stable id of the cluster (the log), shared by every replica. */
  readonly clusterId: () => string;
  /**
   * xDS connection status of a proxy (Kuma's DataplaneInsight), from whoever serves xDS.
   * `undefined` means unknown: `kumactl inspect dataplanes` then shows status `unknown`.
   */
  readonly insightOf?: (mesh: string, name: string) => Record<string, unknown> | undefined;
  /** The xDS configuration computed for a proxy (`_config`), by type URL and resource name. */
  readonly configOf?: (mesh: string, name: string) => Promise<Record<string, Record<string, unknown>> | undefined>;
  /** The translation plugins, to translate past states (`_config?at=`) and previews as the projector does. */
  readonly plugins?: readonly TranslationPlugin[];
  /** The projector's outbound trimming (automatic reachable services), if on: past states and previews are trimmed alike. */
  readonly outboundTrim?: OutboundTrim;
  /** Reads one resource's events (history); the event log itself. */
  readonly history?: (key: { type: string; mesh?: string; name: string }) => Promise<StoredEvent[]>;
  /** The audit feed, time travel, replay-verify and restore; absent: those answer 503/404. */
  readonly audit?: { readonly log: EventLog; readonly history: StateHistory; readonly checkpoints?: CheckpointStore };
  /**
   * How confidential resources (Secret data) look outside their live read: in history, the
   * audit feed, diffs and `?at=` reads. Absent: digests under a key of this process only.
   */
  readonly redactor?: SecretRedactor;
  /** Adds routes served by other modules (tokens). */
  readonly extraRoutes?: (app: FastifyInstance) => void;
  /** Where the API listens and which other host names reach it (Host checks); loopback by default. */
  readonly exposure?: Omit<RequestGuardOptions, 'checkHost'>;
  /** User authentication (`TokenApiAuthenticator`, or `noApiAuthentication`: loopback only). */
  readonly authenticator?: ApiAuthenticator;
  /** Who may touch secrets, generate tokens and write (Kuma's static access, or RBAC); static with admins only by default. */
  readonly access?: AccessControl;
  /** Serve over TLS with this certificate (the HTTPS API on 5682). */
  readonly https?: { readonly key: string; readonly cert: string };
}

type Params = { mesh?: string; plural?: string; name?: string };
type Query = Record<string, string | string[] | undefined>;

/** Optional optimistic concurrency for clients: `If-Match: "<version>"` as returned in `ETag`. */
function ifMatchOf(req: FastifyRequest): number | undefined {
  const h = req.headers['if-match'];
  if (h === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(h);
  if (!m) throw new ApiError(400, 'Bad Request', `invalid If-Match header ${JSON.stringify(h)}: expected a version as returned in ETag, e.g. "42"`);
  return Number(m[1]);
}

const etag = (version: number) => `"${version}"`;

function actorOf(req: FastifyRequest): Actor {
  const loopback = isLoopback(req.ip);
  const ua = req.headers['user-agent'] ?? '';
  return {
    // The authenticated user; without authentication, where the request came from.
    subject: principalOf(req)?.name ?? (loopback ? 'localhost' : 'anonymous'),
    source: ua.startsWith('kumactl/') ? 'kumactl' : 'rest',
    requestId: String(req.id),
    address: req.ip,
  };
}

/** Builds the REST API (Kuma 2.14 universal format) over the current-state projection. */
export function buildApiServer(deps: ApiServerDeps): FastifyInstance {
  const { registry, projection, service } = deps;
  const redactor = deps.redactor ?? ephemeralRedactor(registry);
  const app = createHttpServer(deps.logger, 'api-server', {
    ...(deps.https ? { https: { key: deps.https.key, cert: deps.https.cert, minVersion: 'TLSv1.2' as const } } : {}),
    bodyLimit: deps.bodyLimit,
    // Names may be 253 characters (Kuma's limit); let them reach validation instead of a 414.
    routerOptions: { maxParamLength: 1024 },
    // Errors Fastify raises before routing (a malformed URL, a bad header) get Kuma's body too.
    frameworkErrors: (err, _req, reply) => {
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
      void (reply as FastifyReply).code(status).send(errorBody(new ApiError(status, 'Bad Request', err.message, [{ field: 'url', reason: err.message }])));
    },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
  });

  // Bodies are parsed per route, so errors can name the resource type as Kuma's do.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  // Before any body is read: Host, Origin and media type checks, then (later) who is asking.
  const authenticator = deps.authenticator ?? noApiAuthentication;
  const guard = makeRequestGuard({ boundInterface: '127.0.0.1', allowedHosts: [], ...deps.exposure, checkHost: !authenticator.enabled });
  const access = deps.access ?? staticAccessControl(DEFAULT_ACCESS);
  app.addHook('onRequest', async (req) => {
    guard(req);
    await authenticator.authenticate(req);
    access.onRequest(req);
  });

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', String(req.id));
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    deps.metrics?.apiRequests.inc({ method: req.method, route, status_code: String(reply.statusCode) });
    deps.metrics?.apiRequestDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
  });

  app.addHook('preHandler', async (req) => checkPathParams(req));

  // Kuma's answer for a path it has no route for, an unknown resource type included.
  const pageNotFound = () => new ApiError(404, 'Not Found', 'Page Not Found');
  app.setNotFoundHandler((req, reply) => {
    const e = pageNotFound();
    void reply.code(404).send(errorBody(e));
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const e = toApiError(err, req, registry);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    // Not the detail: parser messages quote the body (JSON.parse does), which may be a Secret's data.
    else req.log.debug({ status: e.status, title: e.title, fields: e.invalidParameters.map((p) => p.field) }, 'request rejected');
    void reply.code(e.status).send(errorBody(e));
  });

  const typeFor = (plural: string | undefined): ResourceTypeDescriptor => {
    const d = plural ? registry.findByPlural(plural) : undefined;
    if (!d) throw pageNotFound();
    return d;
  };
  const requireMesh = (mesh: string, state: CurrentState = projection.state) => {
    if (!state.get({ type: 'Mesh', name: mesh })) throw meshNotFound(mesh);
  };
  /** Reads in a Mesh that does not exist answer Kuma's 404 without invalid_parameters. */
  const requireMeshForRead = (mesh: string, state: CurrentState = projection.state) => {
    if (!state.get({ type: 'Mesh', name: mesh })) throw meshNotFoundForRead();
  };
  const writable = () => {
    if (deps.readOnly) throw new ApiError(405, 'Method not allowed', deps.readOnlyReason ?? 'the API server is in read-only mode');
  };
  /** One page of a type's resources (in a mesh, or all), filtered as the query says; `plural` names the route in errors. */
  const pageOf = (
    req: FastifyRequest,
    type: string,
    plural: string,
    mesh: string | undefined,
    state: CurrentState = projection.state,
    status?: (r: Resource) => Status,
  ) => {
    const query = req.query as Query;
    const page = parsePage(query);
    const route = mesh !== undefined ? `/meshes/{mesh}/${plural}` : `/${plural}`;
    const items = filterResources(state.list(type, mesh), query, route, status);
    return paginate(items, page, { protocol: req.protocol, host: req.host, path: req.url.split('?')[0]!, query });
  };
  /** A list, from the live state or, with `?at=`, from the state at that point. */
  const list = async (req: FastifyRequest, reply: FastifyReply, d: ResourceTypeDescriptor, mesh: string | undefined) => {
    const { state, past } = await stateForRead(req, reply, projection, deps.audit?.history);
    if (mesh !== undefined) requireMeshForRead(mesh, state);
    const result = pageOf(req, d.name, d.plural, mesh, state);
    const shown = past || mustRedactSecrets(req) ? result.items.map((r) => redactor.resource(r)) : result.items;
    return { total: result.total, items: shown.map((r) => encodeResource(r, d)), next: result.next };
  };
  const getOne = async (req: FastifyRequest, reply: FastifyReply, d: ResourceTypeDescriptor, mesh: string | undefined, name: string) => {
    const { state, past } = await stateForRead(req, reply, projection, deps.audit?.history);
    // Like Kuma, a resource of a Mesh that does not exist is simply not found.
    const r = state.get({ type: d.name, ...(mesh !== undefined ? { mesh } : {}), name });
    if (!r) throw notFound('Could not retrieve a resource');
    if (!past) void reply.header('etag', etag(r.meta.version));
    // Only the live read shows a secret's data; the past is shown as digests, like history.
    return formatResource(past || mustRedactSecrets(req) ? redactor.resource(r) : r, d, req.query as Query);
  };
  const put = async (req: FastifyRequest, reply: FastifyReply, d: ResourceTypeDescriptor, mesh: string | undefined, name: string) => {
    writable();
    if (mesh !== undefined) requireMesh(mesh);
    const body = parseBody(req.body, req.headers['content-type'], d.name, deps.bodyLimit);
    const input = decodeResource(body, registry, { type: d.name, ...(mesh !== undefined ? { mesh } : {}), name });
    const stored = projection.state.get(input);
    access.write?.(req, stored ? 'UPDATE' : 'CREATE', { type: d.name, ...(mesh !== undefined ? { mesh } : {}), name, specs: [input.spec, stored?.spec] });
    const { created, resource } = await service.upsert(d, input, actorOf(req), ifMatchOf(req));
    const warnings = warningsFor(d, input);
    return reply.code(created ? 201 : 200).header('etag', etag(resource.meta.version)).send(warnings.length > 0 ? { warnings } : {});
  };
  const del = async (req: FastifyRequest, d: ResourceTypeDescriptor, mesh: string | undefined, name: string) => {
    writable();
    const key = { type: d.name, ...(mesh !== undefined ? { mesh } : {}), name };
    access.write?.(req, 'DELETE', { ...key, specs: [projection.state.get(key)?.spec] });
    // Like Kuma, deleting from a Mesh that does not exist finds nothing to delete (404).
    await service.delete({ type: d.name, ...(mesh !== undefined ? { mesh } : {}), name }, actorOf(req), ifMatchOf(req));
    return {};
  };

  /** Kuma's DataplaneOverview: the Dataplane plus its insight; `filter[status]` filters by its status. */
  const insightOf = (r: Resource) => deps.insightOf?.(r.meta.mesh!, r.meta.name);
  const overviews = (req: FastifyRequest, mesh: string | undefined, plural: string) => {
    const result = pageOf(req, DataplaneType.name, plural, mesh, projection.state, (r) => dataplaneStatus(r, insightOf(r)));
    return {
      total: result.total,
      items: result.items.map((r) => encodeDataplaneOverview(r, insightOf(r))),
      next: result.next,
    };
  };
  // `_overview` is Kuma's path; `dataplanes+insights` its legacy one (typeToLegacyOverviewPath).
  for (const plural of ['dataplanes/_overview', 'dataplanes+insights']) {
    app.get<{ Params: Params }>(`/meshes/:mesh/${plural}`, async (req) => {
      requireMeshForRead(req.params.mesh!);
      return overviews(req, req.params.mesh, plural);
    });
  }
  app.get('/dataplanes+insights', async (req) => overviews(req, undefined, 'dataplanes+insights'));

  const history = async (d: ResourceTypeDescriptor, mesh: string | undefined, name: string) => {
    if (!deps.history) throw new ApiError(503, 'Service Unavailable', 'history is not available in this process');
    const events = await deps.history({ type: d.name, ...(mesh !== undefined ? { mesh } : {}), name });
    if (events.length === 0) throw notFound('Could not retrieve a resource');
    const items = historyOf(events.map((e) => redactor.event(e)), d);
    return { total: items.length, items };
  };
  app.get<{ Params: Params }>('/meshes/:mesh/:plural/:name/_history', async (req) => {
    const d = typeFor(req.params.plural);
    if (d.scope !== 'Mesh') throw notFound('Could not retrieve a resource');
    return history(d, req.params.mesh, req.params.name!);
  });
  app.get<{ Params: Params }>('/meshes/:name/_history', async (req) => history(registry.get('Mesh'), undefined, req.params.name!));
  app.get<{ Params: Params }>('/:plural/:name/_history', async (req) => {
    const d = typeFor(req.params.plural);
    if (d.scope !== 'Global') throw notFound('Could not retrieve a resource');
    return history(d, undefined, req.params.name!);
  });
  if (deps.audit) {
    addAuditRoutes(app, { registry, projection, ...deps.audit, actorOf, redactor, ...(deps.readOnly ? { readOnly: true } : {}) });
  }
  addInspectRoutes(app, {
    registry,
    projection,
    bodyLimit: deps.bodyLimit,
    zone: service.zone,
    plugins: deps.plugins ?? [],
    ...(deps.outboundTrim ? { outboundTrim: deps.outboundTrim } : {}),
    actorOf,
    dependentsOf: (key) => service.dependentsOf(key),
    ...(deps.audit ? { history: deps.audit.history } : {}),
    ...(deps.configOf ? { configOf: deps.configOf } : {}),
  });
  addKriRoutes(app, { registry, projection, zone: service.zone, ...(deps.insightOf ? { insightOf: deps.insightOf } : {}) });
  deps.extraRoutes?.(app);

  app.get('/', async () => ({
    hostname: hostname(),
    tagline: 'Kuma',
    product: 'Kuma',
    version: KUMA_VERSION,
    instanceId: deps.instanceId,
    clusterId: deps.clusterId(),
    basedOnKuma: KUMA_VERSION,
  }));

  // Mesh-scoped resources.
  app.get<{ Params: Params }>('/meshes/:mesh/:plural', async (req, reply) => {
    const d = typeFor(req.params.plural);
    if (d.scope !== 'Mesh') throw notFound('Could not retrieve resources');
    return list(req, reply, d, req.params.mesh);
  });
  app.get<{ Params: Params }>('/meshes/:mesh/:plural/:name', async (req, reply) => {
    const d = typeFor(req.params.plural);
    if (d.scope !== 'Mesh') throw notFound('Could not retrieve a resource');
    return getOne(req, reply, d, req.params.mesh, req.params.name!);
  });
  app.put<{ Params: Params }>('/meshes/:mesh/:plural/:name', async (req, reply) => {
    const d = typeFor(req.params.plural);
    if (d.scope !== 'Mesh') throw notFound('Could not process a resource');
    return put(req, reply, d, req.params.mesh, req.params.name!);
  });
  app.delete<{ Params: Params }>('/meshes/:mesh/:plural/:name', async (req) => {
    const d = typeFor(req.params.plural);
    if (d.scope !== 'Mesh') throw notFound('Could not delete a resource');
    return del(req, d, req.params.mesh, req.params.name!);
  });

  // Global-scoped resources (Mesh), and lists of any type across meshes.
  app.get<{ Params: Params }>('/:plural', async (req, reply) => list(req, reply, typeFor(req.params.plural), undefined));
  app.get<{ Params: Params }>('/:plural/:name', async (req, reply) => {
    const d = typeFor(req.params.plural);
    if (d.scope !== 'Global') throw notFound('Could not retrieve a resource');
    return getOne(req, reply, d, undefined, req.params.name!);
  });
  app.put<{ Params: Params }>('/:plural/:name', async (req, reply) => {
    const d = typeFor(req.params.plural);
    if (d.scope !== 'Global') throw notFound('Could not process a resource');
    return put(req, reply, d, undefined, req.params.name!);
  });
  app.delete<{ Params: Params }>('/:plural/:name', async (req) => {
    const d = typeFor(req.params.plural);
    if (d.scope !== 'Global') throw notFound('Could not delete a resource');
    return del(req, d, undefined, req.params.name!);
  });

  return app;
}

function toApiError(err: Error & { statusCode?: number; code?: string }, req: FastifyRequest, registry: TypeRegistry): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ValidationError) return new ApiError(400, 'Could not process a resource', 'Resource is not valid', err.violations);
  if (err instanceof UnknownTypeError) return new ApiError(400, 'Bad Request', err.message, [{ field: 'type', reason: err.message }]);
  if (err instanceof ResourceNotFoundError) {
    return new ApiError(404, req.method === 'DELETE' ? 'Could not delete a resource' : 'Could not retrieve a resource', 'Not found');
  }
  if (err instanceof VersionConflictError) {
    const p = req.params as Params;
    return new ApiError(
      409,
      'Conflict',
      `resource conflict: type="${registry.findByPlural(p.plural ?? '')?.name ?? p.plural}" name="${p.name ?? ''}" mesh="${p.mesh ?? ''}": it was changed concurrently, read it again and retry`,
    );
  }
  if (err instanceof EventTooLargeError) return new ApiError(413, 'Payload Too Large', err.message);
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ApiError(413, 'Payload Too Large', `request body is larger than the limit of ${req.routeOptions.bodyLimit ?? 0} bytes`);
  }
  if (err instanceof EventLogUnavailableError || err instanceof ProjectionTimeoutError) {
    return new ApiError(503, 'Service Unavailable', err.message);
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new ApiError(err.statusCode, 'Bad Request', err.message);
  }
  return new ApiError(500, 'Internal Server Error', 'Internal Server Error');
}
