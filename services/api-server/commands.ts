import type { Actor, NewEvent } from '../../libs/event-log/event.ts';
import type { CurrentState } from '../../libs/projection/current-state.ts';
import type { ResourceTypeDescriptor } from '../../libs/resources/descriptor.ts';
import type { ResourceKey } from '../../libs/resources/resource.ts';
import { DISPLAY_NAME_LABEL } from '../../libs/resources/kri.ts';
import { isObject, ValidationError, type FieldViolation } from '../../libs/resources/validation.ts';
import type { ResourceInput } from '../../libs/resources/wire.ts';

/** An event to append, and the version of its resource it was decided against. */
export interface Command {
  readonly event: NewEvent;
  readonly expectedVersion: number;
}

export interface DecideContext {
  readonly actor: Actor;
  readonly now: Date;
  readonly newId: () => string;
  /** Zone name for Kuma's computed labels. */
  readonly zone: string;
}

/** Thrown by decide functions when the target does not exist. */
export class ResourceNotFoundError extends Error {
  override readonly name = 'ResourceNotFoundError';
  constructor(readonly key: ResourceKey) {
    super(`resource not found: type="${key.type}" name="${key.name}" mesh="${key.mesh ?? ''}"`);
  }
}

/** Kuma's `kuma.io/proxy-type` of a Dataplane: `gateway` when it declares one, else `sidecar`. */
function proxyType(input: ResourceInput): string {
  const net = input.spec['networking'];
  return isObject(net) && isObject(net['gateway']) ? 'gateway' : 'sidecar';
}

/** Labels only a Kubernetes control plane sets; a universal one never accepts them (identity spoofing). */
const KUBERNETES_ONLY_LABELS = ['k8s.kuma.io/namespace', 'k8s.kuma.io/service-account'];

/** Labels this control plane computes for some types; a type it does not compute one for cannot carry it. */
const COMPUTED_LABELS = ['kuma.io/mesh', 'kuma.io/origin', 'kuma.io/zone', 'kuma.io/env', 'kuma.io/proxy-type'];

export const POLICY_ROLE_LABEL = 'kuma.io/policy-role';

/**
 * Kuma's ComputeLabels for a zone control plane in universal. Kuma's crud table
 * put_update_dataplanes shows the set a mesh-scoped resource gets. These labels are managed: a
 * client may send them (a resource read back) only with the value the control plane computes,
 * since they feed the KRI and identity; anything else is rejected with Kuma's messages (crud
 * tables put_immutable_zone, put_origin_differs_non_federated, put_meshtimeout_spoofed_k8s_labels).
 * A computed label on a type that does not get it (`kuma.io/zone` on a Mesh, `kuma.io/proxy-type`
 * on a Secret) and the Kubernetes-only `kuma.io/policy-role` on a non-policy cannot be set at all;
 * a policy's role can only be `system` on Universal (Kuma's validatePolicyRole). `kuma.io/display-name`
 * is not computed on Universal (Kuma 2.14's ComputeLabels), but if sent it must be the name.
 */
function computedLabels(d: ResourceTypeDescriptor, input: ResourceInput, zone: string): Record<string, string> {
  const managed: Record<string, string> =
    d.scope === 'Mesh'
      ? {
          'kuma.io/mesh': input.mesh ?? 'default',
          'kuma.io/origin': 'zone',
          'kuma.io/zone': zone,
          'kuma.io/env': 'universal',
          ...(d.name === 'Dataplane' ? { 'kuma.io/proxy-type': proxyType(input) } : {}),
        }
      : {};
  const violations: FieldViolation[] = [];
  for (const [key, value] of Object.entries(input.labels)) {
    const field = `labels[${JSON.stringify(key)}]`;
    const expected = key === DISPLAY_NAME_LABEL ? input.name : managed[key];
    const cannotBeSet = KUBERNETES_ONLY_LABELS.includes(key) || (COMPUTED_LABELS.includes(key) && expected === undefined);
    if (key === POLICY_ROLE_LABEL && d.isPolicy) {
      // Kuma's validatePolicyRole: on Universal every policy has the system role.
      if (value !== 'system') violations.push({ field, reason: `${POLICY_ROLE_LABEL} label should have system value, got ${value}` });
    } else if (cannotBeSet || key === POLICY_ROLE_LABEL) {
      violations.push({ field, reason: `label ${JSON.stringify(key)} is managed by the control plane and cannot be set here` });
    } else if (expected !== undefined && value !== expected) {
      violations.push({
        field,
        reason: `label ${JSON.stringify(key)} is managed by the control plane: got ${JSON.stringify(value)}, expected ${JSON.stringify(expected)}`,
      });
    }
  }
  if (violations.length > 0) throw new ValidationError(violations);
  return { ...managed, ...input.labels };
}

/** PUT: create or replace a resource. `created` tells 201 from 200. */
export function decideUpsert(
  state: CurrentState,
  d: ResourceTypeDescriptor,
  input: ResourceInput,
  ctx: DecideContext,
): { command: Command; created: boolean } {
  const existing = state.get(input);
  const now = ctx.now.toISOString();
  return {
    created: existing === undefined,
    command: {
      expectedVersion: state.version(input),
      event: {
        id: ctx.newId(),
        time: now,
        actor: ctx.actor,
        op: 'upsert',
        type: input.type,
        ...(input.mesh !== undefined ? { mesh: input.mesh } : {}),
        name: input.name,
        resource: {
          labels: computedLabels(d, input, ctx.zone),
          creationTime: existing?.meta.creationTime ?? now,
          modificationTime: now,
          spec: input.spec,
        },
      },
    },
  };
}

function deleteCommand(state: CurrentState, key: ResourceKey, ctx: DecideContext): Command {
  return {
    expectedVersion: state.version(key),
    event: {
      id: ctx.newId(),
      time: ctx.now.toISOString(),
      actor: ctx.actor,
      op: 'delete',
      type: key.type,
      ...(key.mesh !== undefined ? { mesh: key.mesh } : {}),
      name: key.name,
    },
  };
}

/**
 * DELETE. Deleting a Mesh deletes everything in it, the Mesh last, as Kuma does; like Kuma
 * it refuses while Dataplanes are still attached, unless `unsafeDelete`.
 */
export function decideDelete(
  state: CurrentState,
  key: ResourceKey,
  ctx: DecideContext,
  opts: { unsafeDelete: boolean },
): Command[] {
  if (!state.get(key)) throw new ResourceNotFoundError(key);
  if (key.type !== 'Mesh') return [deleteCommand(state, key, ctx)];
  const contained = state.inMesh(key.name);
  if (!opts.unsafeDelete && contained.some((r) => r.meta.type === 'Dataplane')) {
    throw new ValidationError([{ field: 'mesh', reason: 'unable to delete mesh, there are still some dataplanes attached' }]);
  }
  return [...contained.map((r) => deleteCommand(state, r.meta, ctx)), deleteCommand(state, key, ctx)];
}
