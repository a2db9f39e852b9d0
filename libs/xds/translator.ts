import type { MeshState } from '../mesh-view/mesh-view.ts';
import type { Resource } from '../resources/resource.ts';
import { generateAdmin } from './generate/admin.ts';
import { MapSharedCache, type ProxyContext, type SharedCache } from './generate/context.ts';
import { generateInbounds, type Generated } from './generate/inbound.ts';
import { generateOutbounds } from './generate/outbound.ts';
import { generateTransparentProxy } from './generate/transparent.ts';
import { buildSnapshot, type Snapshot } from './snapshot.ts';

/** One aspect of a proxy's configuration. Configurers are pure and independent of each other. */
export type Configurer = (ctx: ProxyContext) => Generated;

export const DEFAULT_CONFIGURERS: readonly Configurer[] = [generateInbounds, generateOutbounds, generateTransparentProxy, generateAdmin];

/**
 * Translates one Dataplane into its Envoy configuration: pure, the same inputs always give
 * byte-identical resources. Throws ResourceCollisionError when two parts name a resource alike.
 */
export function translateDataplane(
  mesh: string,
  dataplane: Resource,
  view: MeshState,
  shared: SharedCache = new MapSharedCache(),
  configurers: readonly Configurer[] = DEFAULT_CONFIGURERS,
): Snapshot {
  const ctx: ProxyContext = { mesh, dataplane, view, shared };
  const resources = [];
  const namedOnly = [];
  for (const c of configurers) {
    const g = c(ctx);
    resources.push(...g.resources);
    namedOnly.push(...g.namedOnly);
  }
  return buildSnapshot(resources, namedOnly);
}
