import { isObject, type JsonObject, type Violations } from '../../resources/validation.ts';
import { objects, strict } from './fields.ts';
import { MESH_TARGET, type TargetRef, type TargetRefKind } from './target-ref.ts';
import { validateTargetRef, type TargetRefOptions } from './validate-target-ref.ts';

/** The top-level targetRef, validated; an omitted one is `{kind: Mesh}` (Kuma's GetTargetRef()). */
export interface TopLevel {
  /** The validated targetRef, or undefined when it is invalid. */
  readonly ref: TargetRef | undefined;
  /** The kind as written (what Kuma's section rules switch on even when the targetRef is invalid). */
  readonly kind: TargetRefKind | string;
}

/**
 * Rejects spec fields outside `fields` (Kuma decodes strictly) and validates `targetRef` with the
 * top-level options. `v` is at `spec`.
 */
export function topLevel(spec: Readonly<JsonObject>, v: Violations, fields: readonly string[], opts: TargetRefOptions): TopLevel {
  strict(spec as JsonObject, v, fields);
  const raw = spec['targetRef'];
  if (raw === undefined || raw === null) return { ref: MESH_TARGET, kind: 'Mesh' };
  const kind = isObject(raw) && typeof raw['kind'] === 'string' ? raw['kind'] : '';
  return { ref: validateTargetRef(raw, v.field('targetRef'), opts), kind };
}

/** Kuma's inbound.AffectsInbounds: the policy has `from` or `rules` entries. */
export const affectsInbounds = (spec: Readonly<JsonObject>): boolean =>
  (Array.isArray(spec['from']) && spec['from'].length > 0) || (Array.isArray(spec['rules']) && spec['rules'].length > 0);

export const lengthOf = (spec: Readonly<JsonObject>, key: string): number => (Array.isArray(spec[key]) ? (spec[key] as unknown[]).length : 0);

/** One `to[]`/`from[]` entry: its object, its path and its validated targetRef. */
export interface SectionItem {
  readonly item: JsonObject;
  readonly v: Violations;
  readonly i: number;
  readonly ref: TargetRef | undefined;
}

/**
 * The entries of a `to`/`from` section with only `fields` keys, each targetRef validated with
 * `opts` (`targetRef` missing: Kuma's zero TargetRef, `kind: must be defined`).
 */
export function sectionItems(spec: Readonly<JsonObject>, key: string, v: Violations, fields: readonly string[], opts: TargetRefOptions): SectionItem[] {
  return objects(spec as JsonObject, key, v, fields).map(({ item, v: iv, i }) => ({
    item,
    v: iv,
    i,
    ref: validateTargetRef(item['targetRef'] ?? {}, iv.field('targetRef'), opts),
  }));
}

/** The object at `item.default` with only `fields` (missing: `{}`, Go's zero Conf). */
export function defaultConf(item: JsonObject, v: Violations, fields: readonly string[]): JsonObject {
  const d = item['default'];
  if (d === undefined || d === null) return {};
  if (!isObject(d)) {
    v.field('default').add('must be an object');
    return {};
  }
  strict(d, v.field('default'), fields);
  return d;
}
