import type { TranslationPlugin } from '../xds/generate/plugin.ts';
import { meshFaultInjectionPlugins } from './meshfaultinjection/index.ts';
import { meshHttpRoutePlugins } from './meshhttproute/index.ts';
import { meshRateLimitPlugins } from './meshratelimit/index.ts';
import { meshTcpRoutePlugins } from './meshtcproute/index.ts';

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
  ];
}
