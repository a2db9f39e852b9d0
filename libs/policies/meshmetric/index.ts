import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshMetricPlugin } from './plugin.ts';

/** MeshMetric's translation plugin, for the explicit plugin list (libs/policies/plugins.ts). */
export function meshMetricPlugins(): TranslationPlugin[] {
  return [meshMetricPlugin];
}
