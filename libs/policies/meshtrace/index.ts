import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshTracePlugin } from './plugin.ts';

/** MeshTrace's translation plugin, for the explicit plugin list (libs/policies/plugins.ts). */
export function meshTracePlugins(): TranslationPlugin[] {
  return [meshTracePlugin];
}
