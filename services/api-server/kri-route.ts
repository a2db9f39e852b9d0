import type { FastifyInstance } from 'fastify';
import { KriParseError, parseKri } from '../../libs/resources/kri.ts';
import { pathIdentifierError } from '../../libs/resources/names.ts';
import type { TypeRegistry } from '../../libs/resources/registry.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import type { LiveProjection } from '../../libs/projection/live-projection.ts';
import { ApiError, notFound } from '../../libs/platform/api-errors.ts';
import { formatResource } from './format.ts';
import { encodeDataplaneOverview } from './overview.ts';

export interface KriRouteDeps {
  readonly registry: TypeRegistry;
  readonly projection: LiveProjection;
  /** This control plane's zone: a KRI naming it (or no zone) names a resource stored here by its name. */
  readonly zone: string;
  readonly insightOf?: (mesh: string, name: string) => Record<string, unknown> | undefined;
}

/**
 * `GET /_kri/{kri}` and `GET /_kri/{kri}/_overview` (Kuma's kri_endpoint.go): the resource a KRI
 * names, in its REST form. A malformed KRI answers 400 with Kuma's `bad request: ...` detail; a
 * KRI of another zone (a synced resource, which a universal zone CP does not hold) or of a
 * resource that does not exist answers 404.
 */
export function addKriRoutes(app: FastifyInstance, deps: KriRouteDeps): void {
  const find = (raw: string): Resource => {
    let id;
    try {
      id = parseKri(raw, deps.registry);
    } catch (err) {
      if (err instanceof KriParseError) throw new ApiError(400, 'Bad Request', `bad request: ${err.message}`);
      throw err;
    }
    // Kuma checks the parts it looks up with as it checks path parameters.
    for (const [field, value] of [['mesh', id.mesh], ['name', id.name]] as const) {
      const reason = pathIdentifierError(value);
      if (reason !== undefined) throw new ApiError(400, 'Bad Request', `bad request: ${field}: ${reason}`);
    }
    const d = deps.registry.get(id.type);
    const local = id.zone === '' || id.zone === deps.zone;
    const r =
      local && id.section === '' && id.namespace === ''
        ? deps.projection.state.get({ type: d.name, ...(d.scope === 'Mesh' ? { mesh: id.mesh } : {}), name: id.name })
        : undefined;
    // A global-scoped KRI carries no mesh; one that does names nothing.
    if (!r || (d.scope === 'Global' && id.mesh !== '')) throw notFound('Could not retrieve a resource');
    return r;
  };
  app.get<{ Params: { kri: string } }>('/_kri/:kri', async (req) => {
    const r = find(req.params.kri);
    return formatResource(r, deps.registry.get(r.meta.type), req.query as Record<string, unknown>);
  });
  app.get<{ Params: { kri: string } }>('/_kri/:kri/_overview', async (req) => {
    const r = find(req.params.kri);
    if (r.meta.type !== 'Dataplane') {
      throw new ApiError(400, 'Bad Request', `bad request: resource type ${r.meta.type} has no overview`);
    }
    return encodeDataplaneOverview(r, deps.insightOf?.(r.meta.mesh!, r.meta.name));
  });
}
