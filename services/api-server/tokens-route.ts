import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../../libs/platform/duration.ts';
import type { CurrentState } from '../../libs/projection/current-state.ts';
import { isObject } from '../../libs/resources/validation.ts';
import type { DataplaneTokens } from '../../libs/tokens/signing-keys.ts';
import { ApiError } from './errors.ts';

/** `POST /tokens/dataplane` {name, mesh, tags, type, validFor}: a signed dataplane token, as text. */
export function addTokenRoutes(app: FastifyInstance, tokens: DataplaneTokens, state: CurrentState): void {
  app.post('/tokens/dataplane', async (req, reply) => {
    let body: unknown = req.body;
    if (typeof body === 'string') {
      try {
        body = body.trim() === '' ? {} : JSON.parse(body);
      } catch (err) {
        throw new ApiError(400, 'Bad Request', `invalid token request: ${(err as Error).message}`);
      }
    }
    const b = isObject(body) ? body : {};
    const violations: { field: string; reason: string }[] = [];
    const mesh = typeof b['mesh'] === 'string' && b['mesh'] !== '' ? b['mesh'] : 'default';
    const type = b['type'] ?? 'dataplane';
    if (type !== 'dataplane') violations.push({ field: 'type', reason: 'only "dataplane" tokens can be generated here' });
    let validFor = 365 * 24 * 3600;
    if (b['validFor'] !== undefined) {
      try {
        validFor = parseDuration(String(b['validFor']));
      } catch (err) {
        violations.push({ field: 'validFor', reason: (err as Error).message });
      }
    }
    const tags: Record<string, string[]> = {};
    if (b['tags'] !== undefined) {
      if (!isObject(b['tags'])) violations.push({ field: 'tags', reason: 'must be an object of string lists' });
      else for (const [k, v] of Object.entries(b['tags'])) tags[k] = (Array.isArray(v) ? v : [v]).map(String);
    }
    if (violations.length > 0) throw new ApiError(400, 'Could not issue a token', 'Resource is not valid', violations);
    if (!state.get({ type: 'Mesh', name: mesh })) {
      throw new ApiError(404, 'Failed to retrieve Mesh', 'Not found', [{ field: 'mesh', reason: `mesh of name ${mesh} is not found` }]);
    }
    const token = await tokens.issue({ name: typeof b['name'] === 'string' ? b['name'] : '', mesh, tags, type: 'dataplane' }, validFor);
    return reply.type('text/plain').send(token);
  });
}
