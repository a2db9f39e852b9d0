import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshTrafficPermissionPlugin } from './plugin.ts';

export { meshTrafficPermissionPlugin, MESH_TRAFFIC_PERMISSION, permissionsOf } from './plugin.ts';
export { ReachableServices } from './reachable.ts';

/** The translation plugins of MeshTrafficPermission, for the explicit registration of policy plugins. */
export function meshTrafficPermissionPlugins(): TranslationPlugin[] {
  return [meshTrafficPermissionPlugin];
}
