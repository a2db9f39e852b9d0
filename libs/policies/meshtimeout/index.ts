import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshTimeoutPlugin } from './plugin.ts';

/** MeshTimeout's translation plugin, for the Translator's explicit plugin list. */
export function meshTimeoutPlugins(): TranslationPlugin[] {
  return [meshTimeoutPlugin];
}
