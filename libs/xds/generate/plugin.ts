import type { DataplaneModel } from '../../resources/dataplane-model.ts';
import type { MeshState } from '../../mesh-view/mesh-view.ts';
import type { Draft, Part } from './part.ts';

/** What a plugin may read to decide a proxy's configuration (never the drafts of other proxies). */
export interface PluginContext {
  readonly mesh: string;
  readonly dataplane: DataplaneModel;
  readonly view: MeshState;
}

/**
 * The second phase of translation: a policy's effect on the resources configurers built
 * (Kuma's policy plugin `Apply`). Plugins are registered explicitly and handed to the
 * Translator, which applies them part by part in ascending `order` (Kuma's plugin order), so
 * libs/xds never imports a policy.
 *
 * Contract: `configure` returns what the plugin will apply to this part of this proxy (a
 * JSON-serialisable value, typically the merged policy configuration for the part's origin),
 * or `undefined` to leave the part alone. `apply` may read only that value and the part: the
 * value becomes part of the part's cache key, so proxies that get the same value share the
 * resulting resources.
 */
export interface TranslationPlugin {
  readonly name: string;
  readonly order: number;
  configure(part: Part, ctx: PluginContext): unknown;
  apply(drafts: Draft[], conf: unknown, part: Part): void;
}
