import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { meshProxyPatchPlugins } from '../../libs/policies/meshproxypatch/index.ts';
import { POLICY_TYPES } from '../../libs/policies/register.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { SnapshotCache } from '../../libs/xds/snapshot-cache.ts';
import { projectorEvent as event } from '../../libs/testkit/projector-events.ts';
import { XdsMetrics } from '../../libs/xds/metrics.ts';
import { SnapshotGenerator } from './generator.ts';

const patch = (jsonPatches: unknown[]) => ({
  targetRef: { kind: 'Mesh' },
  default: { appendModifications: [{ cluster: { operation: 'Patch', match: { name: 'backend' }, jsonPatches } }] },
});

describe('a MeshProxyPatch that produces invalid Envoy configuration', () => {
  it('is recorded for the proxy, which keeps its last good snapshot, and the process goes on; a valid patch applies again', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (l: string) => void lines.push(l) });
    const cache = new SnapshotCache({ onFirstWatch: (key) => gen.onWatch(key) });
    const gen = new SnapshotGenerator(cache, new XdsMetrics(new Registry()), logger, {
      debounceMs: 0,
      plugins: meshProxyPatchPlugins(),
      policyTypes: new Set(POLICY_TYPES.map((d) => d.name)),
    });
    const apply = (...args: Parameters<typeof event>) => gen.onEvent(...event(...args));
    const settle = () => new Promise((r) => setTimeout(r, 20));
    const timeout = () => cache.get('default.web-1')?.resources.get(TypeUrl.Cluster)?.get('backend')?.body['connect_timeout'];
    apply('Mesh', undefined, 'default', {});
    apply('Dataplane', 'default', 'web-1', { networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }], outbound: [{ port: 10001, tags: { 'kuma.io/service': 'backend' } }] } });
    apply('Dataplane', 'default', 'backend-1', { networking: { address: '10.0.0.2', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'backend' } }] } });
    cache.watch('default.web-1', () => {});

    apply('MeshProxyPatch', 'default', 'mpp', patch([{ op: 'replace', path: '/connectTimeout', value: '3s' }]));
    await settle();
    expect(timeout()).toEqual({ seconds: 3 });
    const good = cache.get('default.web-1');

    apply('MeshProxyPatch', 'default', 'mpp', patch([{ op: 'add', path: '/connectTimeoutt', value: '4s' }]));
    await settle();
    expect(cache.get('default.web-1')).toBe(good); // unchanged: the last good snapshot
    expect(gen.errors.get('default.web-1')?.error).toMatch(/^spec\.default\.appendModifications\[0\]\.cluster: JSON patch result is not a valid envoy\.config\.cluster\.v3\.Cluster: \/connectTimeoutt: no such field/);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ component: 'projector', proxy: 'default.web-1' }));

    // a value that does not fit Envoy's schema (an unknown enum name) is caught by the strict check
    apply('MeshProxyPatch', 'default', 'mpp', { targetRef: { kind: 'Mesh' }, default: { appendModifications: [{ cluster: { operation: 'Patch', match: { name: 'backend' }, value: 'lbPolicy: FASTEST' } }] } });
    await settle();
    expect(cache.get('default.web-1')).toBe(good);
    expect(gen.errors.get('default.web-1')?.error).toContain('Cluster "backend" is not valid Envoy configuration');

    apply('MeshProxyPatch', 'default', 'mpp', patch([{ op: 'replace', path: '/connectTimeout', value: '4s' }]));
    await settle();
    expect(timeout()).toEqual({ seconds: 4 });
    expect(gen.errors.has('default.web-1')).toBe(false);
    gen.stop();
  });
});
