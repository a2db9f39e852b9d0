import { randomUUID } from 'node:crypto';
import { ACCESS_ACTIONS, AccessRoleBindingType, AccessRoleType } from '../../libs/resources/access-role.ts';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { VersionConflictError } from '../../libs/event-log/errors.ts';
import type { EventLog } from '../../libs/event-log/port.ts';
import type { LiveProjection } from '../../libs/projection/live-projection.ts';
import type { ResourceTypeDescriptor } from '../../libs/resources/descriptor.ts';
import { MeshType } from '../../libs/resources/mesh.ts';
import { GlobalSecretType, secretData } from '../../libs/resources/secret.ts';
import type { JsonObject } from '../../libs/resources/validation.ts';
import { SIGNING_KEY_NAME } from '../../libs/tokens/dataplane-token.ts';
import { CURRENT_KEY_SERIAL, newSigningKeySecretData } from '../../libs/tokens/signing-keys.ts';
import { ADMIN_USER, ADMIN_USER_TOKEN_SECRET, GROUPS, USER_TOKEN_KEY_SERIAL, USER_TOKEN_SIGNING_KEY_NAME, type UserTokens } from '../../libs/tokens/user-token.ts';
import { decideUpsert, type DecideContext } from '../api-server/commands.ts';
import type { MeshInitialResources } from '../api-server/resource-service.ts';

/**
 * Creates a global resource once per cluster: the append expects version 0, so when several
 * replicas start together exactly one write wins and the others see it.
 */
async function createOnce(
  log: EventLog,
  projection: LiveProjection,
  d: ResourceTypeDescriptor,
  name: string,
  spec: () => JsonObject,
  initial?: MeshInitialResources,
): Promise<boolean> {
  const key = { type: d.name, name };
  if (projection.state.version(key) !== 0) return false;
  const ctx: DecideContext = { actor: { subject: 'kuma-cp', source: 'system' }, now: new Date(), newId: randomUUID, zone: 'default' };
  const input = { ...key, labels: {}, spec: spec() };
  const { command } = decideUpsert(projection.state, d, input, ctx);
  // The Mesh and what comes with it are one batch: expected version 0 for the Mesh makes
  // exactly one replica's batch win, and the others store nothing.
  const items = [
    { event: command.event, expectedVersion: 0 },
    ...(initial?.(name, input.spec) ?? []).map((extra) => {
      const c = decideUpsert(projection.state, extra.d, extra.input, ctx).command;
      return { event: c.event, expectedVersion: c.expectedVersion };
    }),
  ];
  try {
    const stored = await log.appendAll(items);
    await projection.waitFor(stored.at(-1)!.seq);
    return true;
  } catch (err) {
    if (!(err instanceof VersionConflictError)) throw err;
    return false;
  }
}

/** Kuma's `default` Mesh, unless `defaults.skipMeshCreation`. */
export async function ensureDefaultMesh(log: EventLog, projection: LiveProjection, logger: Logger, initial?: MeshInitialResources): Promise<void> {
  if (await createOnce(log, projection, MeshType, 'default', () => ({}), initial)) logger.info({ component: 'defaults' }, 'created Mesh "default" and its default policies');
}

/** The RSA key that signs dataplane tokens, as the GlobalSecret `dataplane-token-signing-key-1`. */
export async function ensureSigningKey(log: EventLog, projection: LiveProjection, logger: Logger): Promise<void> {
  const name = SIGNING_KEY_NAME(CURRENT_KEY_SERIAL);
  if (await createOnce(log, projection, GlobalSecretType, name, () => ({ data: newSigningKeySecretData() }))) {
    logger.info({ component: 'defaults', secret: name }, 'created the dataplane token signing key');
  }
}

/** The RSA key that signs user tokens, as the GlobalSecret `user-token-signing-key-1`. */
export async function ensureUserTokenSigningKey(log: EventLog, projection: LiveProjection, logger: Logger): Promise<void> {
  const name = USER_TOKEN_SIGNING_KEY_NAME(USER_TOKEN_KEY_SERIAL);
  if (await createOnce(log, projection, GlobalSecretType, name, () => ({ data: newSigningKeySecretData() }))) {
    logger.info({ component: 'defaults', secret: name }, 'created the user token signing key');
  }
}

/**
 * The admin's user token: created once per cluster as Kuma's GlobalSecret `admin-user-token`
 * (encrypted in the log), and written to `<workDir>/admin-user-token`, readable by this user only,
 * so whoever runs kuma-cp can configure kumactl. The token itself is never logged.
 */
export async function ensureAdminUserToken(log: EventLog, projection: LiveProjection, logger: Logger, tokens: UserTokens, workDir: string): Promise<string> {
  if (projection.state.version({ type: 'GlobalSecret', name: ADMIN_USER_TOKEN_SECRET }) === 0) {
    const token = await tokens.issue(ADMIN_USER, [GROUPS.admin], 10 * 365 * 24 * 3600);
    if (await createOnce(log, projection, GlobalSecretType, ADMIN_USER_TOKEN_SECRET, () => ({ data: Buffer.from(token).toString('base64') }))) {
      logger.info({ component: 'defaults', secret: ADMIN_USER_TOKEN_SECRET }, 'created the admin user token');
    }
  }
  const data = secretData(projection.state.get({ type: 'GlobalSecret', name: ADMIN_USER_TOKEN_SECRET }));
  const file = join(workDir, 'admin-user-token');
  if (data !== undefined) {
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, Buffer.from(data, 'base64').toString('utf8'), { mode: 0o600 });
    chmodSync(file, 0o600);
    logger.info({ component: 'defaults', file }, 'the admin user token is in this file (readable by this user only): kumactl config control-planes add --auth-type=tokens --auth-conf token=$(cat FILE)');
  }
  return file;
}

/**
 * With `KUMA_ACCESS_TYPE=rbac`: Kong Mesh's default AccessRole `admin` (every action on everything)
 * and AccessRoleBinding `default`. Kong Mesh 2.x binds it to every user; as Kong Mesh 3.0 narrowed
 * it, only `mesh-system:admin` here: other users get only what an operator binds them to.
 */
export async function ensureRbacDefaults(log: EventLog, projection: LiveProjection, logger: Logger): Promise<void> {
  if (await createOnce(log, projection, AccessRoleType, 'admin', () => ({ rules: [{ access: [...ACCESS_ACTIONS] }] }))) logger.info({ component: 'defaults', role: 'admin' }, 'created the admin AccessRole');
  if (await createOnce(log, projection, AccessRoleBindingType, 'default', () => ({ subjects: [{ type: 'Group', name: GROUPS.admin }], roles: ['admin'] }))) {
    logger.info({ component: 'defaults', binding: 'default' }, 'created the default AccessRoleBinding (mesh-system:admin)');
  }
}
