import type { ResourceTypeDescriptor } from './descriptor.ts';
import type { TypeRegistry } from './registry.ts';
import type { ResourceMeta } from './resource.ts';
import { ZONE_TAG } from './tags.ts';

/** Labels a KRI is built from (Kuma's mesh_proto constants). */
export const DISPLAY_NAME_LABEL = 'kuma.io/display-name';
export const K8S_NAMESPACE_LABEL = 'k8s.kuma.io/namespace';

/**
 * A Kuma Resource Identifier, `kri_<short>_<mesh>_<zone>_<namespace>_<name>_<section>`
 * (Kuma's pkg/core/kri). Empty parts stay empty: a Mesh is `kri_m____default_`.
 */
export interface KriIdentifier {
  /** The wire type name (`Dataplane`), resolved from the short name. */
  readonly type: string;
  readonly mesh: string;
  readonly zone: string;
  readonly namespace: string;
  readonly name: string;
  readonly section: string;
}

/** A string that is not a KRI; the message is Kuma's (`kri.FromString`). */
export class KriParseError extends Error {
  override readonly name = 'KriParseError';
}

/**
 * The KRI of a stored resource, or undefined for types without a short name. The zone and
 * namespace come from the `kuma.io/zone` and `k8s.kuma.io/namespace` labels, the name from
 * `kuma.io/display-name` when set, as Kuma's `kri.FromResourceMeta` does.
 */
export function kriOf(meta: ResourceMeta, d: ResourceTypeDescriptor): string | undefined {
  if (d.shortName === undefined) return undefined;
  const labels = meta.labels;
  const name = labels[DISPLAY_NAME_LABEL] || meta.name;
  return `kri_${d.shortName}_${meta.mesh ?? ''}_${labels[ZONE_TAG] ?? ''}_${labels[K8S_NAMESPACE_LABEL] ?? ''}_${name}_`;
}

/**
 * Parses a KRI as Kuma does: at least seven `_`-separated parts, `kri` first, a known short
 * name second; parts beyond the sixth are joined into the section name.
 */
export function parseKri(s: string, registry: TypeRegistry): KriIdentifier {
  const parts = s.split('_');
  if (parts.length < 7) throw new KriParseError(`invalid identifier string: ${JSON.stringify(s)}`);
  if (parts[0] !== 'kri') throw new KriParseError(`identifier must start with 'kri': ${JSON.stringify(s)}`);
  const short = parts[1]!;
  const d = registry.findByShortName(short);
  if (!d) throw new KriParseError(`unknown short name of resource type: ${JSON.stringify(short)}`);
  return {
    type: d.name,
    mesh: parts[2]!,
    zone: parts[3]!,
    namespace: parts[4]!,
    name: parts[5]!,
    section: parts.slice(6).join(''),
  };
}
