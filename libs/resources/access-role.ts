/**
 * Kong Mesh's role-based access control resources (global): AccessRole says which writes and
 * token generations it grants, on which types, names and mesh; AccessRoleBinding gives roles to
 * users and groups. They take effect with `KUMA_ACCESS_TYPE=rbac` (services/api-server/rbac.ts).
 */
import type { ResourceTypeDescriptor } from './descriptor.ts';
import { rejectUnknownFields } from './fields.ts';
import { isObject, type JsonObject, type Violations } from './validation.ts';

export const ACCESS_ACTIONS = ['CREATE', 'UPDATE', 'DELETE', 'GENERATE_DATAPLANE_TOKEN', 'GENERATE_USER_TOKEN', 'GENERATE_ZONE_CP_TOKEN', 'GENERATE_ZONE_TOKEN', 'VIEW_CONFIG_DUMP', 'VIEW_STATS', 'VIEW_CLUSTERS'] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];

export interface AccessRoleRule {
  /** Resource types (empty: every type). */
  readonly types?: readonly string[];
  /** Resource names (empty: any name). */
  readonly names?: readonly string[];
  /** Only the resources of this mesh (mesh-scoped types, and dataplane tokens of the mesh). */
  readonly mesh?: string;
  readonly access: readonly AccessAction[];
  /** Policies only: one of these must match the policy's top-level targetRef. */
  readonly when?: readonly { readonly targetRef: { readonly kind: string; readonly name?: string; readonly tags?: Readonly<Record<string, string>> } }[];
}

export interface AccessRoleBindingSubject {
  readonly type: 'User' | 'Group';
  readonly name: string;
}

function strings(obj: JsonObject, key: string, v: Violations): void {
  const value = obj[key];
  if (value === undefined) return;
  if (!Array.isArray(value)) return v.field(key).add('must be an array of strings');
  value.forEach((s, i) => {
    if (typeof s !== 'string' || s === '') v.field(key).index(i).add('must be a non-empty string');
  });
}

export function validateAccessRole(spec: Readonly<JsonObject>, v: Violations): void {
  rejectUnknownFields(spec as JsonObject, ['rules'], v);
  const rules = spec['rules'];
  if (!Array.isArray(rules) || rules.length === 0) return v.field('rules').add('must have at least one element');
  rules.forEach((r, i) => {
    const rv = v.field('rules').index(i);
    if (!isObject(r)) return rv.add('must be an object');
    rejectUnknownFields(r, ['types', 'names', 'mesh', 'access', 'when'], rv);
    strings(r, 'types', rv);
    strings(r, 'names', rv);
    if (r['mesh'] !== undefined && (typeof r['mesh'] !== 'string' || r['mesh'] === '')) rv.field('mesh').add('must be a non-empty string');
    const access = r['access'];
    if (!Array.isArray(access) || access.length === 0) rv.field('access').add('must have at least one element');
    else access.forEach((a, j) => {
      if (!(ACCESS_ACTIONS as readonly unknown[]).includes(a)) rv.field('access').index(j).add(`must be one of: ${ACCESS_ACTIONS.join(', ')}`);
    });
    const when = r['when'];
    if (when === undefined) return;
    if (!Array.isArray(when)) return rv.field('when').add('must be an array');
    when.forEach((w, j) => {
      const wv = rv.field('when').index(j);
      if (!isObject(w)) return wv.add('must be an object');
      rejectUnknownFields(w, ['targetRef'], wv);
      const ref = w['targetRef'];
      if (!isObject(ref) || typeof ref['kind'] !== 'string' || ref['kind'] === '') return wv.field('targetRef').field('kind').add('must be defined');
      rejectUnknownFields(ref, ['kind', 'name', 'tags'], wv.field('targetRef'));
    });
  });
}

export function validateAccessRoleBinding(spec: Readonly<JsonObject>, v: Violations): void {
  rejectUnknownFields(spec as JsonObject, ['subjects', 'roles'], v);
  const subjects = spec['subjects'];
  if (!Array.isArray(subjects) || subjects.length === 0) v.field('subjects').add('must have at least one element');
  else subjects.forEach((s, i) => {
    const sv = v.field('subjects').index(i);
    if (!isObject(s)) return sv.add('must be an object');
    rejectUnknownFields(s, ['type', 'name'], sv);
    if (s['type'] !== 'User' && s['type'] !== 'Group') sv.field('type').add('must be one of: User, Group');
    if (typeof s['name'] !== 'string' || s['name'] === '') sv.field('name').add('must be a non-empty string');
  });
  const roles = spec['roles'];
  if (!Array.isArray(roles) || roles.length === 0) v.field('roles').add('must have at least one element');
  else strings(spec as JsonObject, 'roles', v);
}

const global = (name: string, plural: string, kumactlArg: string, validate: ResourceTypeDescriptor['validate']): ResourceTypeDescriptor =>
  Object.freeze({ name, plural, scope: 'Global', kumactlArg, kumactlListArg: plural, isPolicy: false, specLayout: 'inline', validate, kubernetesScope: 'Cluster', columns: [] });

export const AccessRoleType = global('AccessRole', 'access-roles', 'access-role', validateAccessRole);
export const AccessRoleBindingType = global('AccessRoleBinding', 'access-role-bindings', 'access-role-binding', validateAccessRoleBinding);
