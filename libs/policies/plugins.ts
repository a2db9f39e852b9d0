import type { TranslationPlugin } from '../xds/generate/plugin.ts';
// observability (h11-observe)
import { meshAccessLogPlugins } from './meshaccesslog/index.ts';
import { meshTracePlugins } from './meshtrace/index.ts';
import { meshMetricPlugins } from './meshmetric/index.ts';
import { meshPassthroughPlugins } from './meshpassthrough/index.ts';
import { meshProxyPatchPlugins } from './meshproxypatch/index.ts';

/**
 * The translation plugins of the policies, registered explicitly (the translator sorts them by
 * Kuma's plugin order). libs/xds never imports a policy: services hand these to the projector.
 */
export function policyPlugins(): TranslationPlugin[] {
  return [
    // observability (h11-observe)
    ...meshPassthroughPlugins(),
    ...meshAccessLogPlugins(),
    ...meshTracePlugins(),
    ...meshMetricPlugins(),
    ...meshProxyPatchPlugins(),
  ];
}
