import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openMemoryEventLog } from '../../libs/event-log/memory.ts';
import type { EventLog } from '../../libs/event-log/port.ts';
import { defaultPoliciesFor } from '../../libs/policies/defaults.ts';
import { fullRegistry } from '../../libs/policies/registry.ts';
import { LiveProjection } from '../../libs/projection/live-projection.ts';
import type { MeshInitialResources } from '../api-server/resource-service.ts';
import { ensureDefaultMesh } from './cluster-defaults.ts';

const registry = fullRegistry();
const initial: MeshInitialResources = (mesh, spec) =>
  defaultPoliciesFor(mesh, spec).map((p) => ({ d: registry.get(p.type), input: { type: p.type, mesh: p.mesh, name: p.name, labels: {}, spec: p.spec } }));
const logger = pino({ level: 'silent' });
const projections: LiveProjection[] = [];

async function replica(log: EventLog): Promise<LiveProjection> {
  const p = new LiveProjection(log);
  await p.start();
  projections.push(p);
  return p;
}

afterEach(async () => {
  for (const p of projections.splice(0)) await p.stop();
});

async function events(log: EventLog): Promise<string[]> {
  const out: string[] = [];
  for await (const e of log.read(1)) out.push(`${e.seq} ${e.op} ${e.type}/${e.name}`);
  return out;
}

describe('the default Mesh and its default policies', () => {
  it('are one batch, written once even when replicas start together, and a deleted default is not recreated', async () => {
    const log = await openMemoryEventLog();
    const [a, b] = [await replica(log), await replica(log)];
    await Promise.all([ensureDefaultMesh(log, a, logger, initial), ensureDefaultMesh(log, b, logger, initial)]);
    expect(await events(log)).toEqual([
      '1 upsert Mesh/default',
      '2 upsert MeshTimeout/mesh-timeout-all-default',
      '3 upsert MeshTimeout/mesh-gateways-timeout-all-default',
      '4 upsert MeshCircuitBreaker/mesh-circuit-breaker-all-default',
      '5 upsert MeshRetry/mesh-retry-all-default',
    ]);
    const retry = (await log.history({ type: 'MeshRetry', mesh: 'default', name: 'mesh-retry-all-default' }))[0]!;
    expect(retry.op === 'upsert' && retry.resource.labels).toEqual({ 'kuma.io/mesh': 'default', 'kuma.io/origin': 'zone', 'kuma.io/zone': 'default', 'kuma.io/env': 'universal' });

    await log.append({ id: 'del', time: new Date().toISOString(), actor: { subject: 'u', source: 'rest' }, op: 'delete', type: 'MeshRetry', mesh: 'default', name: 'mesh-retry-all-default' });
    const c = await replica(log);
    await ensureDefaultMesh(log, c, logger, initial);
    expect(await log.head()).toBe(6);
    expect(c.state.get({ type: 'MeshRetry', mesh: 'default', name: 'mesh-retry-all-default' })).toBeUndefined();
    await log.close();
  });
});
