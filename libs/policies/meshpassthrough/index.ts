import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshPassthroughPlugin } from './plugin.ts';

/** MeshPassthrough's translation plugin, for the explicit plugin list (libs/policies/plugins.ts). */
export function meshPassthroughPlugins(): TranslationPlugin[] {
  return [meshPassthroughPlugin];
}
