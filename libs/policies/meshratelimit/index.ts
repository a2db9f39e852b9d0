import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshRateLimitPlugin } from './plugin.ts';

export { meshRateLimitPlugin, MESH_RATE_LIMIT } from './plugin.ts';

/** The translation plugins of MeshRateLimit, for the explicit registration of policy plugins. */
export function meshRateLimitPlugins(): TranslationPlugin[] {
  return [meshRateLimitPlugin];
}
