import type { ResourceTypeDescriptor } from '../resources/descriptor.ts';
import type { TypeRegistry } from '../resources/registry.ts';
import { MeshAccessLogType } from './meshaccesslog/descriptor.ts';
import { MeshCircuitBreakerType } from './meshcircuitbreaker/descriptor.ts';
import { MeshFaultInjectionType } from './meshfaultinjection/descriptor.ts';
import { MeshHealthCheckType } from './meshhealthcheck/descriptor.ts';
import { MeshHTTPRouteType } from './meshhttproute/descriptor.ts';
import { MeshLoadBalancingStrategyType } from './meshloadbalancingstrategy/descriptor.ts';
import { MeshMetricType } from './meshmetric/descriptor.ts';
import { MeshPassthroughType } from './meshpassthrough/descriptor.ts';
import { MeshProxyPatchType } from './meshproxypatch/descriptor.ts';
import { MeshRateLimitType } from './meshratelimit/descriptor.ts';
import { MeshRetryType } from './meshretry/descriptor.ts';
import { MeshTCPRouteType } from './meshtcproute/descriptor.ts';
import { MeshTimeoutType } from './meshtimeout/descriptor.ts';
import { MeshTLSType } from './meshtls/descriptor.ts';
import { MeshTraceType } from './meshtrace/descriptor.ts';
import { MeshTrafficPermissionType } from './meshtrafficpermission/descriptor.ts';

/** Kuma 2.14's targetRef policies, in Kuma's plugin order (the `Order` of zz_generated.resource.go). */
export const POLICY_TYPES: readonly ResourceTypeDescriptor[] = [
  MeshHTTPRouteType,
  MeshTCPRouteType,
  MeshTLSType,
  MeshLoadBalancingStrategyType,
  MeshPassthroughType,
  MeshAccessLogType,
  MeshTraceType,
  MeshFaultInjectionType,
  MeshRateLimitType,
  MeshTimeoutType,
  MeshTrafficPermissionType,
  MeshHealthCheckType,
  MeshCircuitBreakerType,
  MeshRetryType,
  MeshMetricType,
  MeshProxyPatchType,
];

/**
 * Registers every policy type. Services call this next to `registerBuiltinTypes`; libs/resources
 * never imports policies (resources <- policies <- services).
 */
export function registerPolicyTypes(registry: TypeRegistry): TypeRegistry {
  for (const d of POLICY_TYPES) registry.register(d);
  return registry;
}
