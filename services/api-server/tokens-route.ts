import type { FastifyInstance } from 'fastify';
import type { AccessControl } from './access.ts';
import { parseDuration } from '../../libs/platform/duration.ts';
import type { CurrentState } from '../../libs/projection/current-state.ts';
import { isObject, Violations } from '../../libs/resources/validation.ts';
import type { DataplaneTokens } from '../../libs/tokens/signing-keys.ts';
import type { UserTokens } from '../../libs/tokens/user-token.ts';
import { parseJsonBody } from '../../libs/platform/request-body.ts';
import { ApiError } from '../../libs/platform/api-errors.ts';

const FIELDS = ['name', 'mesh', 'tags', 'type', 'validFor'];
const DEFAULT_VALID_FOR = 365 * 24 * 3600;

export interface TokenRequest {
  readonly name: string;
  readonly mesh: string;
  readonly tags: Record<string, string[]>;
  readonly validFor: number;
}

/** A token request's `validFor` (a Go duration) in seconds; absent or empty: a year. Violations go to `v`. */
function validForOf(raw: string | undefined, v: Violations): number {
  if (raw === undefined || raw === '') return DEFAULT_VALID_FOR;
  try {
    const seconds = parseDuration(raw);
    if (seconds <= 0) v.add('must be a positive duration');
    return seconds;
  } catch (err) {
    v.add((err as Error).message);
    return DEFAULT_VALID_FOR;
  }
}

/**
 * Kuma's DataplaneTokenRequest `{name, mesh, tags: {tag: [values]}, type, validFor}`, checked
 * whole: every field's type, unknown fields, tag names and values. A token request that would
 * silently widen (a non-string `name` becoming a mesh-wide token) is a 400 naming the field.
 */
export function parseTokenRequest(body: unknown): TokenRequest {
  const v = Violations.root();
  if (!isObject(body)) {
    throw new ApiError(400, 'Could not issue a token', 'Resource is not valid', [{ field: 'body', reason: 'must be a JSON object' }]);
  }
  for (const k of Object.keys(body)) if (!FIELDS.includes(k)) v.field(k).add(`unknown field; supported: ${FIELDS.join(', ')}`);
  const str = (k: string): string | undefined => {
    const val = body[k];
    if (val === undefined || val === null) return undefined;
    if (typeof val !== 'string') {
      v.field(k).add('must be a string');
      return undefined;
    }
    return val;
  };
  const name = str('name') ?? '';
  const mesh = str('mesh') || 'default';
  const type = str('type');
  if (type !== undefined && type !== '' && type !== 'dataplane') v.field('type').add('only "dataplane" tokens can be generated here');
  const validFor = validForOf(str('validFor'), v.field('validFor'));
  const tags: Record<string, string[]> = {};
  const rawTags = body['tags'];
  if (rawTags !== undefined && rawTags !== null) {
    if (!isObject(rawTags)) v.field('tags').add('must be an object of string lists, e.g. {"kuma.io/service": ["web"]}');
    else {
      for (const [k, list] of Object.entries(rawTags)) {
        const tv = v.field('tags').key(k);
        if (k === '') tv.add('tag name must be non-empty');
        if (!Array.isArray(list) || list.length === 0) {
          tv.add('must be a non-empty list of values');
          continue;
        }
        list.forEach((item, i) => {
          if (typeof item !== 'string' || item === '') tv.index(i).add('must be a non-empty string');
        });
        tags[k] = list.filter((x): x is string => typeof x === 'string');
      }
    }
  }
  if (!v.empty) throw new ApiError(400, 'Could not issue a token', 'Resource is not valid', v.items);
  return { name, mesh, tags, validFor };
}

/** `POST /tokens/dataplane` {name, mesh, tags, type, validFor}: a signed dataplane token, as text. */
export function addTokenRoutes(app: FastifyInstance, tokens: DataplaneTokens, state: CurrentState, access?: AccessControl): void {
  app.post('/tokens/dataplane', async (req, reply) => {
    const r = parseTokenRequest(parseJsonBody(req.body, 'token request'));
    access?.dataplaneToken?.(req, r.mesh, r.name);
    if (!state.get({ type: 'Mesh', name: r.mesh })) {
      throw new ApiError(404, 'Failed to retrieve Mesh', 'Not found', [{ field: 'mesh', reason: `mesh of name ${r.mesh} is not found` }]);
    }
    const token = await tokens.issue({ name: r.name, mesh: r.mesh, tags: r.tags, type: 'dataplane' }, r.validFor);
    return reply.type('text/plain').send(token);
  });
}

const USER_FIELDS = ['name', 'groups', 'validFor'];

/** Kuma's UserTokenRequest `{name, groups, validFor}`, checked whole. */
export function parseUserTokenRequest(body: unknown): { name: string; groups: string[]; validFor: number } {
  const v = Violations.root();
  if (!isObject(body)) throw new ApiError(400, 'Could not issue a token', 'Resource is not valid', [{ field: 'body', reason: 'must be a JSON object' }]);
  for (const k of Object.keys(body)) if (!USER_FIELDS.includes(k)) v.field(k).add(`unknown field; supported: ${USER_FIELDS.join(', ')}`);
  const name = body['name'];
  if (typeof name !== 'string' || name.trim() === '') v.field('name').add('cannot be empty');
  const groups: string[] = [];
  if (body['groups'] !== undefined && body['groups'] !== null) {
    if (!Array.isArray(body['groups'])) v.field('groups').add('must be a list of strings');
    else
      body['groups'].forEach((g, i) => {
        if (typeof g !== 'string' || g === '') v.field('groups').index(i).add('must be a non-empty string');
        else groups.push(g);
      });
  }
  const raw = body['validFor'];
  if (raw !== undefined && typeof raw !== 'string') v.field('validFor').add('must be a duration string, e.g. 24h');
  const validFor = validForOf(typeof raw === 'string' ? raw : undefined, v.field('validFor'));
  if (!v.empty) throw new ApiError(400, 'Could not issue a token', 'Resource is not valid', v.items);
  return { name: name as string, groups, validFor };
}

/** `POST /tokens/user` {name, groups, validFor}: a signed user token, as text (access: generateUserToken). */
export function addUserTokenRoute(app: FastifyInstance, tokens: UserTokens): void {
  app.post('/tokens/user', async (req, reply) => {
    const r = parseUserTokenRequest(parseJsonBody(req.body, 'token request'));
    return reply.type('text/plain').send(await tokens.issue(r.name, r.groups, r.validFor));
  });
}
