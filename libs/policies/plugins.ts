import type { TranslationPlugin } from '../xds/generate/plugin.ts';
import { meshAccessLogPlugins } from './meshaccesslog/index.ts';
import { meshCircuitBreakerPlugins } from './meshcircuitbreaker/index.ts';
import { meshFaultInjectionPlugins } from './meshfaultinjection/index.ts';
import { meshHealthCheckPlugins } from './meshhealthcheck/index.ts';
import { meshHttpRoutePlugins } from './meshhttproute/index.ts';
import { meshLoadBalancingStrategyPlugins } from './meshloadbalancingstrategy/index.ts';
import { meshMetricPlugins } from './meshmetric/index.ts';
import { meshPassthroughPlugins } from './meshpassthrough/index.ts';
import { meshProxyPatchPlugins } from './meshproxypatch/index.ts';
import { meshRateLimitPlugins } from './meshratelimit/index.ts';
import { meshRetryPlugins } from './meshretry/index.ts';
import { meshTcpRoutePlugins } from './meshtcproute/index.ts';
import { meshTimeoutPlugins } from './meshtimeout/index.ts';
import { meshTlsPlugins } from './meshtls/index.ts';
import { meshTracePlugins } from './meshtrace/index.ts';
import { meshTrafficPermissionPlugins } from './meshtrafficpermission/index.ts';

/**
 * The translation plugins of the policies, registered explicitly (the translator sorts them by
 * Kuma's plugin order). libs/xds never imports a policy: services hand these to the projector.
 */
export function policyPlugins(): TranslationPlugin[] {
  return [
    // routing
    ...meshHttpRoutePlugins(),
    ...meshTcpRoutePlugins(),
    // traffic
    ...meshFaultInjectionPlugins(),
    ...meshRateLimitPlugins(),
    // resilience
    ...meshTimeoutPlugins(),
    ...meshRetryPlugins(),
    ...meshCircuitBreakerPlugins(),
    ...meshHealthCheckPlugins(),
    ...meshLoadBalancingStrategyPlugins(),
    // zero trust
    ...meshTlsPlugins(),
    ...meshTrafficPermissionPlugins(),
    // observability and escape hatches
    ...meshPassthroughPlugins(),
    ...meshAccessLogPlugins(),
    ...meshTracePlugins(),
    ...meshMetricPlugins(),
    ...meshProxyPatchPlugins(),
  ];
}
