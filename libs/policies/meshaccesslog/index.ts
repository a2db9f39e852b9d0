import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshAccessLogPlugin } from './plugin.ts';

/** MeshAccessLog's translation plugin, for the explicit plugin list (libs/policies/plugins.ts). */
export function meshAccessLogPlugins(): TranslationPlugin[] {
  return [meshAccessLogPlugin];
}
