import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshTcpRoutePlugin } from './plugin.ts';

export { meshTcpRoutePlugin, MESH_TCP_ROUTE } from './plugin.ts';

/** The translation plugins of MeshTCPRoute, for the explicit registration of policy plugins. */
export function meshTcpRoutePlugins(): TranslationPlugin[] {
  return [meshTcpRoutePlugin];
}
