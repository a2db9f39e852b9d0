import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { meshFaultInjectionPlugin } from './plugin.ts';

export { meshFaultInjectionPlugin, MESH_FAULT_INJECTION } from './plugin.ts';

/** The translation plugins of MeshFaultInjection, for the explicit registration of policy plugins. */
export function meshFaultInjectionPlugins(): TranslationPlugin[] {
  return [meshFaultInjectionPlugin];
}
