import type { JsonObject, Violations } from '../../resources/validation.ts';
import { object } from './fields.ts';
import { MUST_BE_DEFINED } from './messages.ts';
import { topLevel } from './spec.ts';
import type { TargetRefKind } from './target-ref.ts';

/**
 * A single-item policy (`targetRef` + `default`: MeshTrace, MeshMetric, MeshProxyPatch,
 * MeshPassthrough): validates the top-level targetRef and returns `default`, which is required.
 */
export function singleItem(
  spec: Readonly<JsonObject>,
  v: Violations,
  kinds: readonly TargetRefKind[],
  defaultFields: readonly string[],
  gatewayListenerTagsAllowed = true,
): JsonObject | undefined {
  topLevel(spec, v, ['targetRef', 'default'], { supportedKinds: kinds, gatewayListenerTagsAllowed });
  const d = object(spec as JsonObject, 'default', v, defaultFields);
  if (!d && (spec['default'] === undefined || spec['default'] === null)) v.field('default').add(MUST_BE_DEFINED);
  return d;
}

/** The system-role top-level kinds of MeshTrace, MeshMetric and MeshProxyPatch. */
export const OBSERVABILITY_TOP_KINDS: readonly TargetRefKind[] = ['Mesh', 'MeshSubset', 'MeshGateway', 'MeshService', 'MeshServiceSubset', 'Dataplane'];
