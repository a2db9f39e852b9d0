import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshHttpRoutePlugin } from './plugin.ts';

export { meshHttpRoutePlugin, MESH_HTTP_ROUTE } from './plugin.ts';

/** The translation plugins of MeshHTTPRoute, for the explicit registration of policy plugins. */
export function meshHttpRoutePlugins(): TranslationPlugin[] {
  return [meshHttpRoutePlugin];
}
