import { describe, expect, it } from 'vitest';
import { CurrentState } from '../../libs/projection/current-state.ts';
import { DataplaneType } from '../../libs/resources/dataplane.ts';
import type { ResourceTypeDescriptor } from '../../libs/resources/descriptor.ts';
import { MeshType } from '../../libs/resources/mesh.ts';
import { SecretType } from '../../libs/resources/secret.ts';
import { ValidationError, type FieldViolation } from '../../libs/resources/validation.ts';
import type { ResourceInput } from '../../libs/resources/wire.ts';
import { decideUpsert } from './commands.ts';

/** A targetRef policy type, as the policies issue will register them. */
const PolicyType: ResourceTypeDescriptor = {
  name: 'MeshTimeout',
  plural: 'meshtimeouts',
  scope: 'Mesh',
  kumactlArg: 'meshtimeout',
  kumactlListArg: 'meshtimeouts',
  shortName: 'mt',
  isPolicy: true,
  specLayout: 'nested',
  validate: () => {},
  columns: [],
};

const ctx = { actor: { source: 'rest' as const, subject: 'test' }, now: new Date('2026-01-01T00:00:00Z'), newId: () => 'id', zone: 'zone-1' };

function labelsAfter(d: ResourceTypeDescriptor, labels: Record<string, string>, mesh: string | undefined = 'default'): Record<string, string> | FieldViolation[] {
  const input: ResourceInput = { type: d.name, ...(d.scope === 'Mesh' ? { mesh } : {}), name: 'r-1', labels, spec: {} };
  try {
    const { command } = decideUpsert(new CurrentState(), d, input, ctx);
    return (command.event as { resource: { labels: Record<string, string> } }).resource.labels;
  } catch (err) {
    if (err instanceof ValidationError) return [...err.violations];
    throw err;
  }
}

const cannotBeSet = (key: string) => ({ field: `labels[${JSON.stringify(key)}]`, reason: `label ${JSON.stringify(key)} is managed by the control plane and cannot be set here` });

describe('managed labels on a universal zone control plane', () => {
  it('computes Kuma 2.14\'s labels and no kuma.io/display-name', () => {
    expect(labelsAfter(DataplaneType, {})).toEqual({
      'kuma.io/mesh': 'default',
      'kuma.io/origin': 'zone',
      'kuma.io/zone': 'zone-1',
      'kuma.io/env': 'universal',
      'kuma.io/proxy-type': 'sidecar',
    });
    expect(labelsAfter(MeshType, {}, undefined)).toEqual({});
  });

  it('a policy may carry kuma.io/policy-role only as system (Kuma\'s validatePolicyRole)', () => {
    expect(labelsAfter(PolicyType, { 'kuma.io/policy-role': 'system' })).toMatchObject({ 'kuma.io/policy-role': 'system' });
    expect(labelsAfter(PolicyType, { 'kuma.io/policy-role': 'consumer' })).toEqual([
      { field: 'labels["kuma.io/policy-role"]', reason: 'kuma.io/policy-role label should have system value, got consumer' },
    ]);
  });

  it('a type that is not a policy cannot carry kuma.io/policy-role', () => {
    expect(labelsAfter(DataplaneType, { 'kuma.io/policy-role': 'system' })).toEqual([cannotBeSet('kuma.io/policy-role')]);
  });

  it('a computed label on a type that does not get it cannot be set', () => {
    expect(labelsAfter(MeshType, { 'kuma.io/zone': 'zone-1', 'kuma.io/mesh': 'default', team: 'a' }, undefined)).toEqual([
      cannotBeSet('kuma.io/zone'),
      cannotBeSet('kuma.io/mesh'),
    ]);
    expect(labelsAfter(SecretType, { 'kuma.io/proxy-type': 'sidecar' })).toEqual([cannotBeSet('kuma.io/proxy-type')]);
  });

  it('user labels and computed labels with their computed values pass through', () => {
    expect(labelsAfter(SecretType, { team: 'a', 'kuma.io/mesh': 'default', 'kuma.io/display-name': 'r-1' })).toEqual({
      'kuma.io/mesh': 'default',
      'kuma.io/origin': 'zone',
      'kuma.io/zone': 'zone-1',
      'kuma.io/env': 'universal',
      team: 'a',
      'kuma.io/display-name': 'r-1',
    });
  });
});
