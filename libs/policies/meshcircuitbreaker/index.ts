import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshCircuitBreakerPlugin } from './plugin.ts';

/** MeshCircuitBreaker's translation plugin, for the Translator's explicit plugin list. */
export function meshCircuitBreakerPlugins(): TranslationPlugin[] {
  return [meshCircuitBreakerPlugin];
}
