import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshHealthCheckPlugin } from './plugin.ts';

/** MeshHealthCheck's translation plugin, for the Translator's explicit plugin list. */
export function meshHealthCheckPlugins(): TranslationPlugin[] {
  return [meshHealthCheckPlugin];
}
