import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshLoadBalancingStrategyPlugin } from './plugin.ts';

/** MeshLoadBalancingStrategy's translation plugin, for the Translator's explicit plugin list. */
export function meshLoadBalancingStrategyPlugins(): TranslationPlugin[] {
  return [meshLoadBalancingStrategyPlugin];
}
