import type { FastifyRequest } from 'fastify';
import { GROUPS } from '../../libs/tokens/user-token.ts';
import { principalOf, type Principal } from './authn.ts';
import { ApiError } from '../../libs/platform/api-errors.ts';

/** Who may do one thing: by user name or by group (Kuma's static access, `KUMA_ACCESS_STATIC_*`). */
export interface AccessRule {
  readonly users: readonly string[];
  readonly groups: readonly string[];
}

/**
 * Kuma's static access control (`KUMA_ACCESS_TYPE=static`): who may read and write admin
 * resources (Secrets and GlobalSecrets), generate dataplane tokens and generate user tokens.
 * Everything else is open to any authenticated user. Each defaults to `mesh-system:admin`.
 */
export interface StaticAccess {
  readonly adminResources: AccessRule;
  readonly generateDpToken: AccessRule;
  readonly generateUserToken: AccessRule;
}

const admins: AccessRule = { users: [], groups: [GROUPS.admin] };
export const DEFAULT_ACCESS: StaticAccess = { adminResources: admins, generateDpToken: admins, generateUserToken: admins };

export function allowed(rule: AccessRule, p: Principal | undefined): boolean {
  // Without authentication (KUMA_API_SERVER_AUTHN_TYPE=none, loopback only) everyone is everyone.
  if (!p) return true;
  return rule.users.includes(p.name) || p.groups.some((g) => rule.groups.includes(g));
}

const ADMIN_RESOURCE = /^\/(?:meshes\/[^/]+\/)?(?:secrets|global-secrets|access-roles|access-role-bindings)(?:\/|$)/;
const redacted = new WeakSet<FastifyRequest>();

/** Whether a read must show digests instead of secret data (the caller may not read admin resources). */
export const mustRedactSecrets = (req: FastifyRequest): boolean => redacted.has(req);

/**
 * Enforces `access` on a request (after authentication): writes of admin resources and token
 * generation without the right are a 403 naming it; reads of admin resources without it are
 * answered with digests in place of the data.
 */
export function enforceStaticAccess(req: FastifyRequest, access: StaticAccess): void {
  const p = principalOf(req);
  if (!p) return;
  const path = req.url.split('?')[0]!;
  const deny = (what: string) => {
    throw new ApiError(403, 'Access Denied', `user "${p.name}" (groups ${p.groups.join(', ')}) may not ${what}`);
  };
  if (req.method === 'POST' && path === '/tokens/dataplane' && !allowed(access.generateDpToken, p)) deny('generate dataplane tokens');
  if (req.method === 'POST' && path === '/tokens/user' && !allowed(access.generateUserToken, p)) deny('generate user tokens');
  if (ADMIN_RESOURCE.test(path) && !allowed(access.adminResources, p)) {
    if (req.method === 'GET' || req.method === 'HEAD') redacted.add(req);
    else deny('change secrets (admin resources)');
  }
}

/** A write the control plane is about to make for a user: what, where, and the specs it replaces or writes. */
export interface WriteTarget {
  readonly type: string;
  readonly mesh?: string;
  readonly name: string;
  /** The spec written (and, for an update or delete, the one stored): `when` qualifiers read their targetRefs. */
  readonly specs: readonly (Readonly<Record<string, unknown>> | undefined)[];
}

/**
 * Who may do what through the API (Kuma's `KUMA_ACCESS_TYPE`): `static` (Kuma's default) checks
 * secrets and tokens by path before the body is read; `rbac` (Kong Mesh's AccessRole and
 * AccessRoleBinding) checks every write and token generation with what it targets.
 */
export interface AccessControl {
  /** Before the body is read: refuses (403) or marks the request's secret reads for redaction. */
  onRequest(req: FastifyRequest): void;
  /** A resource write (CREATE, UPDATE or DELETE): throws a 403 when the user may not. */
  write?(req: FastifyRequest, action: 'CREATE' | 'UPDATE' | 'DELETE', target: WriteTarget): void;
  /** A dataplane token for a Dataplane of `mesh`: throws a 403 when the user may not. */
  dataplaneToken?(req: FastifyRequest, mesh: string, name: string): void;
}

export const staticAccessControl = (access: StaticAccess): AccessControl => ({ onRequest: (req) => enforceStaticAccess(req, access) });

/** Marks a read for digests in place of secret data (see mustRedactSecrets). */
export const redactSecretsOf = (req: FastifyRequest): void => void redacted.add(req);
