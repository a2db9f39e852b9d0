/**
 * Translation cost of the five resilience plugins: one proxy with transparent proxying to 200
 * services (http and grpc, two zones) with every plugin configured for every service, cold (first
 * proxy) and warm (49 more proxies sharing the cache), against no plugins. Run: npx tsx test/bench/resilience-plugins.ts
 */
import { MeshViews } from '../../libs/mesh-view/mesh-view.ts';
import { defaultRegistry } from '../../libs/resources/builtin.ts';
import { decodeResource } from '../../libs/resources/wire.ts';
import type { Resource } from '../../libs/resources/resource.ts';
import { Translator } from '../../libs/xds/translator.ts';
import { meshTimeoutPlugin } from '../../libs/policies/meshtimeout/plugin.ts';
import { meshRetryPlugin } from '../../libs/policies/meshretry/plugin.ts';
import { meshCircuitBreakerPlugin } from '../../libs/policies/meshcircuitbreaker/plugin.ts';
import { meshHealthCheckPlugin } from '../../libs/policies/meshhealthcheck/plugin.ts';
import { meshLoadBalancingStrategyPlugin } from '../../libs/policies/meshloadbalancingstrategy/plugin.ts';

const N = 200;
const reg = defaultRegistry();
const views = new MeshViews();
const raw: unknown[] = [{ type: 'Mesh', name: 'default' }];
for (let i = 0; i < N; i++) raw.push({ type: 'Dataplane', mesh: 'default', name: `s${i}-1`, networking: { address: `10.1.${i >> 8}.${i & 255}`, inbound: [{ port: 8080, tags: { 'kuma.io/service': `s${i}`, 'kuma.io/protocol': i % 2 ? 'http' : 'grpc', 'kuma.io/zone': i % 3 ? 'z1' : 'z2' } }] } });
const clients: Resource[] = [];
for (let c = 0; c < 50; c++) raw.push({ type: 'Dataplane', mesh: 'default', name: `c${c}`, networking: { address: `10.2.0.${c}`, inbound: [{ port: 9000, tags: { 'kuma.io/service': 'client', 'kuma.io/zone': 'z1' } }], transparentProxying: { redirectPortInbound: 15006, redirectPortOutbound: 15001 } } });
raw.forEach((r, i) => {
  const input = decodeResource(r, reg);
  const res: Resource = { meta: { type: input.type, ...(input.mesh ? { mesh: input.mesh } : {}), name: input.name, labels: input.labels, creationTime: 'x', modificationTime: 'x', version: i + 1 }, spec: input.spec };
  views.apply(res.meta.type, res.meta.mesh, res.meta.name, res);
  if (input.name.startsWith('c')) clients.push(res);
});
const all = (conf: unknown) => Object.fromEntries(Array.from({ length: N }, (_, i) => [`s${i}`, conf]));
const table: Record<string, Record<string, unknown>> = {
  MeshTimeout: all({ connectionTimeout: '5s', idleTimeout: '1h', http: { requestTimeout: '15s', streamIdleTimeout: '30m' } }),
  MeshRetry: all({ tcp: { maxConnectAttempt: 5 }, http: { numRetries: 5, perTryTimeout: '16s', backOff: { baseInterval: '25ms', maxInterval: '250ms' } }, grpc: { numRetries: 5, perTryTimeout: '16s', backOff: { baseInterval: '25ms', maxInterval: '250ms' } } }),
  MeshCircuitBreaker: all({ connectionLimits: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 } }),
  MeshHealthCheck: all({ grpc: {}, tcp: {} }),
  MeshLoadBalancingStrategy: all({ loadBalancer: { type: 'LeastRequest' } }),
};
const policies = { toService: (t: string, s: string) => table[t]?.[s], toRoute: () => undefined, toAnyService: () => undefined, fromInbound: () => undefined, proxy: () => undefined };
const plugins = [meshTimeoutPlugin, meshRetryPlugin, meshCircuitBreakerPlugin, meshHealthCheckPlugin, meshLoadBalancingStrategyPlugin];
const view = views.get('default')!;
for (const [label, ps, pol] of [['warm-up (protos)', [], undefined], ['no plugins', [], undefined], ['5 plugins', plugins, policies], ['no plugins', [], undefined], ['5 plugins', plugins, policies]] as const) {
  const t = new Translator(undefined, ps as never);
  let start = performance.now();
  t.translate('default', clients[0]!, view, pol);
  const cold = performance.now() - start;
  start = performance.now();
  for (const c of clients.slice(1)) t.translate('default', c, view, pol);
  const warm = (performance.now() - start) / (clients.length - 1);
  console.log(`${label}: first proxy (cold, ${N} services) ${cold.toFixed(0)} ms; next proxies (shared cache) ${warm.toFixed(1)} ms each`);
}
