import type { AccessAction, AccessRoleBindingSubject, AccessRoleRule } from '../../libs/resources/access-role.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import { principalOf, type Principal } from './authn.ts';
import { redactSecretsOf, type AccessControl, type WriteTarget } from './access.ts';
import { ApiError } from '../../libs/platform/api-errors.ts';

/** Where the roles and bindings are read from (the projected state, at each request). */
export interface RbacSource {
  roles(): Iterable<Resource>;
  bindings(): Iterable<Resource>;
}

interface Target {
  readonly type?: string;
  readonly mesh?: string;
  readonly name?: string;
  readonly specs?: WriteTarget['specs'];
}

type Ref = { readonly kind?: string; readonly name?: string; readonly tags?: Readonly<Record<string, string>> };

const sameRef = (want: Ref, got: Ref | undefined): boolean =>
  got !== undefined &&
  want.kind === got.kind &&
  (want.name === undefined || want.name === got.name) &&
  Object.entries(want.tags ?? {}).every(([k, v]) => got.tags?.[k] === v);

/** The rules of every role bound to the user by name or to one of their groups. */
function rulesOf(src: RbacSource, p: Principal): AccessRoleRule[] {
  const roles = new Set<string>();
  for (const b of src.bindings()) {
    const subjects = (b.spec['subjects'] as AccessRoleBindingSubject[] | undefined) ?? [];
    if (subjects.some((s) => (s.type === 'User' && s.name === p.name) || (s.type === 'Group' && p.groups.includes(s.name)))) {
      for (const r of (b.spec['roles'] as string[] | undefined) ?? []) roles.add(r);
    }
  }
  const out: AccessRoleRule[] = [];
  for (const r of src.roles()) if (roles.has(r.meta.name)) out.push(...((r.spec['rules'] as AccessRoleRule[] | undefined) ?? []));
  return out;
}

/**
 * Kong Mesh's RBAC decision: some rule of the user's roles grants `action` on the target's type
 * (no `types`: all), name (no `names`: any), mesh (no `mesh`: any) and, with `when`, every
 * targetRef the write touches matches one of its qualifiers.
 */
export function rbacAllows(src: RbacSource, p: Principal, action: AccessAction, t: Target): boolean {
  return rulesOf(src, p).some((rule) => {
    if (!rule.access.includes(action)) return false;
    if (t.type !== undefined && rule.types && rule.types.length > 0 && !rule.types.includes(t.type)) return false;
    if (rule.names && rule.names.length > 0 && (t.name === undefined || !rule.names.includes(t.name))) return false;
    if (rule.mesh !== undefined && rule.mesh !== t.mesh) return false;
    if (rule.when && rule.when.length > 0) {
      const refs = (t.specs ?? []).filter((s) => s !== undefined).map((s) => s['targetRef'] as Ref | undefined);
      if (refs.length === 0 || !refs.every((ref) => rule.when!.some((w) => sameRef(w.targetRef, ref ?? { kind: 'Mesh' })))) return false;
    }
    return true;
  });
}

const SECRET_PATH = /^\/(?:meshes\/([^/]+)\/)?(secrets|global-secrets)(?:\/([^/]+))?\/?$/;
const CONFIG_PATH = /^\/meshes\/([^/]+)\/dataplanes\/([^/]+)\/_config$/;

/**
 * `KUMA_ACCESS_TYPE=rbac`: Kong Mesh's AccessRole and AccessRoleBinding. Reads are open to every
 * authenticated user, except a Secret's data (shown to those who may UPDATE it, as a digest to
 * others) and a proxy's `_config` (VIEW_CONFIG_DUMP); every write and token generation needs a
 * role that grants it.
 */
export function rbacAccessControl(src: RbacSource): AccessControl {
  const deny = (p: Principal, what: string): never => {
    throw new ApiError(403, 'Access Denied', `user "${p.name}" (groups ${p.groups.join(', ')}) may not ${what}: no AccessRole bound to them grants it`);
  };
  return {
    onRequest(req) {
      const p = principalOf(req);
      if (!p) return;
      const path = req.url.split('?')[0]!;
      if (req.method === 'POST' && path === '/tokens/user' && !rbacAllows(src, p, 'GENERATE_USER_TOKEN', {})) deny(p, 'generate user tokens');
      const config = CONFIG_PATH.exec(path);
      if (config && req.method === 'GET' && !rbacAllows(src, p, 'VIEW_CONFIG_DUMP', { type: 'Dataplane', mesh: decodeURIComponent(config[1]!), name: decodeURIComponent(config[2]!) })) {
        deny(p, `view the configuration of ${decodeURIComponent(config[1]!)}/${decodeURIComponent(config[2]!)}`);
      }
      const secret = SECRET_PATH.exec(path);
      if (secret && (req.method === 'GET' || req.method === 'HEAD')) {
        const target = { type: secret[2] === 'secrets' ? 'Secret' : 'GlobalSecret', ...(secret[1] ? { mesh: decodeURIComponent(secret[1]) } : {}), ...(secret[3] ? { name: decodeURIComponent(secret[3]) } : {}) };
        if (!rbacAllows(src, p, 'UPDATE', target)) redactSecretsOf(req);
      }
    },
    write(req, action, t) {
      const p = principalOf(req);
      if (p && !rbacAllows(src, p, action, t)) deny(p, `${action.toLowerCase()} ${t.type} ${t.mesh ? `${t.mesh}/` : ''}${t.name}`);
    },
    dataplaneToken(req, mesh, name) {
      const p = principalOf(req);
      if (p && !rbacAllows(src, p, 'GENERATE_DATAPLANE_TOKEN', { mesh, name })) deny(p, `generate dataplane tokens for mesh "${mesh}"`);
    },
  };
}
