import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../../libs/event-log/event.ts';
import type { ResourceKey } from '../../libs/resources/resource.ts';
import { redactConfig, type ConfigJson } from '../../libs/inspect/config-json.ts';
import { policySourceOf } from '../../libs/inspect/policy-source.ts';
import { previewImpact, proxyConfig } from '../../libs/inspect/preview.ts';
import { proxyPolicies } from '../../libs/inspect/proxy-policies.ts';
import { inspectRules } from '../../libs/inspect/rules.ts';
import { meshViewsOf } from '../../libs/inspect/views.ts';
import { policyItemOf } from '../../libs/mesh-view/mesh-view.ts';
import type { PolicySource } from '../../libs/policies/engine/proxy-policies.ts';
import { dataplaneModel, type DataplaneModel } from '../../libs/resources/dataplane-model.ts';
import { selectedDataplanes } from '../../libs/policies/core/selection-index.ts';
import type { LiveProjection } from '../../libs/projection/live-projection.ts';
import { resourceOf, type CurrentState } from '../../libs/projection/current-state.ts';
import type { StateHistory } from '../../libs/projection/time-travel.ts';
import type { ResourceTypeDescriptor } from '../../libs/resources/descriptor.ts';
import { kriOf } from '../../libs/resources/kri.ts';
import type { TypeRegistry } from '../../libs/resources/registry.ts';
import { decodeResource } from '../../libs/resources/wire.ts';
import type { TranslationPlugin } from '../../libs/xds/generate/plugin.ts';
import type { OutboundTrim } from '../../libs/xds/generate/context.ts';
import { Translator } from '../../libs/xds/translator.ts';
import { stateForRead } from './audit-routes.ts';
import { parseBody } from '../../libs/platform/request-body.ts';
import { decideDelete, decideUpsert } from './commands.ts';
import { ApiError, meshNotFound, notFound } from '../../libs/platform/api-errors.ts';
import { paginate, parsePage } from './listing.ts';

type Params = { mesh?: string; plural?: string; name?: string };
type Query = Record<string, string | string[] | undefined>;

export interface InspectRouteDeps {
  readonly registry: TypeRegistry;
  readonly projection: LiveProjection;
  readonly bodyLimit: number;
  readonly zone: string;
  /** Time travel (`?at=`); absent: `at` answers 503. */
  readonly history?: StateHistory;
  /** The live configuration of a proxy as published (`_config` without `at`). */
  readonly configOf?: (mesh: string, name: string) => Promise<ConfigJson | undefined>;
  /** The translation plugins, to translate past and hypothetical states as the projector would. */
  readonly plugins: readonly TranslationPlugin[];
  /** The projector's outbound trimming (automatic reachable services), if on. */
  readonly outboundTrim?: OutboundTrim;
  readonly actorOf: (req: FastifyRequest) => Actor;
  /** What deleting a resource also deletes (ResourceService.dependentsOf), for deletion previews. */
  readonly dependentsOf?: (key: ResourceKey) => readonly ResourceKey[];
}

/**
 * Kuma's inspection endpoints (`_rules`, `_policies`, `_resources/dataplanes`), `_config`, and
 * ours beyond Kuma: `?at=` on `_config`, `_rules` and `_policies` (the proxy as of a point of the log) and
 * `POST .../_preview` (what a PUT would change, per proxy, writing nothing). Everything is
 * computed from a state (live, past or hypothetical) with the projector's own engine.
 */
export function addInspectRoutes(app: FastifyInstance, deps: InspectRouteDeps): void {
  const { registry, projection } = deps;
  /** In registration order: Kuma's plugin order (libs/policies/register.ts), which `_rules` lists types in. */
  const policyTypes = registry.policyTypeNames();
  /** A policy's KRI as of `state` (its labels then name its origin). */
  const kriIn = (state: CurrentState) => (type: string, mesh: string, name: string): string => {
    const d = registry.get(type);
    const r = state.get({ type, mesh, name });
    return kriOf(r?.meta ?? { type, mesh, name, labels: {}, creationTime: '', modificationTime: '', version: 0 }, d) ?? `${type}/${name}`;
  };

  /** The policies of a Dataplane's mesh in `state` and its model, with Kuma's 404s for a missing mesh or Dataplane. */
  const dataplaneSource = (state: CurrentState, mesh: string, name: string, title: string): { source: PolicySource; model: DataplaneModel } => {
    if (!state.get({ type: 'Mesh', name: mesh })) throw notFound('Could not build MeshContext');
    const dp = state.get({ type: 'Dataplane', mesh, name });
    if (!dp) throw notFound(title);
    return { source: policySourceOf(state, mesh, policyTypes), model: dataplaneModel(dp) };
  };

  app.get<{ Params: Params }>('/meshes/:mesh/dataplanes/:name/_rules', async (req, reply) => {
    const { state } = await stateForRead(req, reply, projection, deps.history);
    const mesh = req.params.mesh!;
    const { source, model } = dataplaneSource(state, mesh, req.params.name!, 'Could not get MatchedPolicies');
    const dp = state.get({ type: 'Dataplane', mesh, name: req.params.name! })!;
    const resource = { type: 'Dataplane', mesh, name: dp.meta.name, ...(Object.keys(dp.meta.labels).length > 0 ? { labels: dp.meta.labels } : {}) };
    return inspectRules(source, policyTypes, model, resource, (type, m, name) => state.get({ type, mesh: m, name })?.meta.labels);
  });

  app.get<{ Params: Params }>('/meshes/:mesh/dataplanes/:name/_policies', async (req, reply) => {
    const { state } = await stateForRead(req, reply, projection, deps.history);
    const { source, model } = dataplaneSource(state, req.params.mesh!, req.params.name!, 'Could not retrieve a resource');
    return proxyPolicies(source, policyTypes, model, kriIn(state));
  });

  app.get<{ Params: Params }>('/meshes/:mesh/dataplanes/:name/_config', async (req, reply) => {
    const mesh = req.params.mesh!;
    const name = req.params.name!;
    if ((req.query as Query)['at'] === undefined) {
      if (!projection.state.get({ type: 'Mesh', name: mesh })) throw meshNotFound(mesh);
      if (!projection.state.get({ type: 'Dataplane', mesh, name })) throw notFound('Could not retrieve a resource');
      const xds = await deps.configOf?.(mesh, name);
      if (!xds) throw new ApiError(503, 'Service Unavailable', 'no xDS configuration is available for this proxy here (no projector has published one yet, or this process runs no projector)');
      return { xds };
    }
    // The past: translate the proxy from the state at that point, as the projector did then.
    const { state } = await stateForRead(req, reply, projection, deps.history);
    if (!state.get({ type: 'Mesh', name: mesh })) throw meshNotFound(mesh);
    if (!state.get({ type: 'Dataplane', mesh, name })) throw notFound('Could not retrieve a resource');
    const xds = proxyConfig(meshViewsOf(state, mesh, policyTypes), mesh, name, new Translator(undefined, deps.plugins, undefined, deps.outboundTrim));
    return { xds: redactConfig(xds!) };
  });

  const policyType = (plural: string | undefined): ResourceTypeDescriptor => {
    const d = plural ? registry.findByPlural(plural) : undefined;
    if (!d?.isPolicy) {
      throw new ApiError(400, 'Bad Request', `${plural ?? ''} is not a policy type`, [{ field: 'policyType', reason: `must be the plural of a targetRef policy type (e.g. meshtimeouts), got ${JSON.stringify(plural)}` }]);
    }
    return d;
  };

  app.get<{ Params: Params }>('/meshes/:mesh/:plural/:name/_resources/dataplanes', async (req) => {
    const d = policyType(req.params.plural);
    const mesh = req.params.mesh!;
    const state = projection.state;
    const policy = state.get({ type: d.name, mesh, name: req.params.name! });
    if (!policy) throw notFound('Could not retrieve policy');
    const models = state.list('Dataplane', mesh).map(dataplaneModel);
    const names = selectedDataplanes(policyItemOf(policy), models, policySourceOf(state, mesh, policyTypes).selectionContext);
    const query = req.query as Query;
    const nameFilter = typeof query['name'] === 'string' ? query['name'] : undefined;
    const items = names.filter((n) => nameFilter === undefined || n.includes(nameFilter)).map((n) => ({ mesh, name: n, type: 'Dataplane' }));
    return paginate(items, parsePage(query), { protocol: req.protocol, host: req.host, path: req.url.split('?')[0]!, query });
  });

  /**
   * The impact of a PUT, without the PUT: the same body, the same validation (the same 400s),
   * then each proxy the change could affect translated against the current state and against
   * the state with the change applied. Appends nothing; the log head does not move.
   */
  app.post<{ Params: Params }>('/meshes/:mesh/:plural/:name/_preview', async (req, reply) => {
    const plural = req.params.plural;
    const d = plural ? registry.findByPlural(plural) : undefined;
    if (!d || d.scope !== 'Mesh') throw new ApiError(404, 'Not Found', 'Page Not Found');
    const mesh = req.params.mesh!;
    const state = projection.state;
    if (!state.get({ type: 'Mesh', name: mesh })) throw meshNotFound(mesh);
    const body = parseBody(req.body, req.headers['content-type'], d.name, deps.bodyLimit);
    const input = decodeResource(body, registry, { type: d.name, mesh, name: req.params.name! });
    const { command, created } = decideUpsert(state, d, input, { actor: deps.actorOf(req), now: new Date(), newId: randomUUID, zone: deps.zone });
    const after = resourceOf({ ...command.event, seq: state.position + 1 } as Parameters<typeof resourceOf>[0]);
    const views = meshViewsOf(state, mesh, policyTypes);
    const proxies = previewImpact(views, { type: d.name, mesh, name: input.name, before: state.get(input), after }, new Translator(undefined, deps.plugins, undefined, deps.outboundTrim));
    void reply.header('x-kuma-at', String(state.position));
    return {
      resource: { type: d.name, mesh, name: input.name },
      operation: created ? 'create' : 'update',
      basedOn: state.position,
      total: proxies.length,
      changed: proxies.filter((p) => p.changed).length,
      proxies,
    };
  });

  /**
   * The impact of a DELETE, without the DELETE: the same refusals (404 for what does not exist),
   * then each proxy the resource selects (a policy), or the Dataplane and its services' consumers,
   * translated with and without it. A deleted Dataplane's own configuration shows as removed.
   */
  app.delete<{ Params: Params }>('/meshes/:mesh/:plural/:name/_preview', async (req, reply) => {
    const plural = req.params.plural;
    const d = plural ? registry.findByPlural(plural) : undefined;
    if (!d || d.scope !== 'Mesh') throw new ApiError(404, 'Not Found', 'Page Not Found');
    const mesh = req.params.mesh!;
    const name = req.params.name!;
    const state = projection.state;
    if (!state.get({ type: 'Mesh', name: mesh })) throw meshNotFound(mesh);
    const key = { type: d.name, mesh, name };
    decideDelete(state, key, { actor: deps.actorOf(req), now: new Date(), newId: randomUUID, zone: deps.zone }, { unsafeDelete: false });
    // What the DELETE removes with it (a MeshIdentity's MeshTrust) goes first, as there.
    const also = (deps.dependentsOf?.(key) ?? []).filter((k) => k.mesh === mesh);
    const views = meshViewsOf(state, mesh, policyTypes);
    const removals = [...also, key].map((k) => ({ type: k.type, mesh, name: k.name, before: state.get(k), after: undefined }));
    const proxies = previewImpact(views, removals, new Translator(undefined, deps.plugins, undefined, deps.outboundTrim));
    void reply.header('x-kuma-at', String(state.position));
    return {
      resource: key,
      operation: 'delete',
      ...(also.length > 0 ? { alsoDeletes: also.map((k) => ({ type: k.type, mesh, name: k.name })) } : {}),
      basedOn: state.position,
      total: proxies.length,
      changed: proxies.filter((p) => p.changed).length,
      proxies,
    };
  });
}
