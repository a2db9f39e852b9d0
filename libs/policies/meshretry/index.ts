import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshRetryPlugin } from './plugin.ts';

/** MeshRetry's translation plugin, for the Translator's explicit plugin list. */
export function meshRetryPlugins(): TranslationPlugin[] {
  return [meshRetryPlugin];
}
