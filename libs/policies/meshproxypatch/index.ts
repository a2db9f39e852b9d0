import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshProxyPatchPlugin } from './plugin.ts';

/** MeshProxyPatch's translation plugin, for the explicit plugin list (libs/policies/plugins.ts). */
export function meshProxyPatchPlugins(): TranslationPlugin[] {
  return [meshProxyPatchPlugin];
}
