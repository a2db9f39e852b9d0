import type { ResourceTypeDescriptor } from '../../libs/resources/descriptor.ts';

/** The REST path of a type's collection (`/meshes/<mesh>/<plural>` or `/<plural>`), or of one resource in it. */
export function resourcePath(d: ResourceTypeDescriptor, mesh: string | undefined, name?: string): string {
  const base = d.scope === 'Mesh' ? `/meshes/${encodeURIComponent(mesh ?? 'default')}/${d.plural}` : `/${d.plural}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}
