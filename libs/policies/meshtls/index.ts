import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshTlsPlugin } from './plugin.ts';

export { meshTlsPlugin, MESH_TLS } from './plugin.ts';

/** The translation plugins of MeshTLS, for the explicit registration of policy plugins. */
export function meshTlsPlugins(): TranslationPlugin[] {
  return [meshTlsPlugin];
}
