import { describe, expect, it } from 'vitest';
import { specViolations } from './core/violations.ts';
import { defaultPoliciesFor } from './defaults.ts';
import { fullRegistry } from './registry.ts';

describe("Kuma's per-mesh default policies", () => {
  const registry = fullRegistry();
  it('are the four of Kuma, named after the mesh, each valid for its type', () => {
    const defaults = defaultPoliciesFor('demo', {});
    expect(defaults.map((d) => `${d.type}/${d.name}`)).toEqual([
      'MeshTimeout/mesh-timeout-all-demo',
      'MeshTimeout/mesh-gateways-timeout-all-demo',
      'MeshCircuitBreaker/mesh-circuit-breaker-all-demo',
      'MeshRetry/mesh-retry-all-demo',
    ]);
    for (const d of defaults) expect(specViolations(registry.get(d.type), d.spec), d.name).toEqual([]);
  });
  it('honour skipCreatingInitialPolicies by type name (MeshTimeout skips both timeouts) and *', () => {
    expect(defaultPoliciesFor('m', { skipCreatingInitialPolicies: ['MeshTimeout', 'MeshRetry'] }).map((d) => d.name)).toEqual(['mesh-circuit-breaker-all-m']);
    expect(defaultPoliciesFor('m', { skipCreatingInitialPolicies: ['*'] })).toEqual([]);
    expect(defaultPoliciesFor('m', { skipCreatingInitialPolicies: ['TrafficPermission'] })).toHaveLength(4);
  });
});
