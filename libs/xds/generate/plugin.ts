import type { DataplaneModel, InboundModel } from '../../resources/dataplane-model.ts';
import type { MeshState } from '../../mesh-view/mesh-view.ts';
import type { Draft, Part } from './part.ts';

/**
 * The policy configuration that applies to one proxy, as Kuma's rules compute it (matching,
 * sorting and merging happen in libs/policies; this is all a plugin needs to see). Every answer
 * is a policy's merged `default` configuration (a plain JSON object in Kuma's field names), or
 * `undefined` when no policy of that type applies.
 */
export interface ProxyPolicies {
  /** Kuma's outbound ("to") rules: the configuration of traffic from this proxy to `service`. */
  toService(type: string, service: string): unknown;
  /**
   * The configuration of traffic to any destination, what no particular service's rules add to
   * (`to[]` items targeting the whole Mesh): for traffic leaving the mesh, such as passthrough.
   */
  toAnyService(type: string): unknown;
  /**
   * The configuration of a `to[]` item whose targetRef is a MeshHTTPRoute named `route`
   * (per-route timeouts and retries), for traffic to `service`.
   */
  toRoute?(type: string, service: string, route: string): unknown;
  /** Kuma's inbound ("from"/"rules") rules: the catch-all configuration of traffic arriving at `inbound`. */
  fromInbound(type: string, inbound: InboundModel): unknown;
  /** Single-item policies (MeshTrace, MeshMetric, MeshProxyPatch, MeshPassthrough): the proxy's configuration. */
  proxy(type: string): unknown;
  /**
   * Every rule of traffic arriving at `inbound`, per client (MeshTrafficPermission decides by who
   * calls); `undefined` when no policy of the type selects the inbound.
   */
  fromInboundRules?(type: string, inbound: InboundModel): ClientRules | undefined;
  /**
   * A key that two proxies' policies share exactly when every answer about traffic to services
   * (`toService`, `toAnyService`, `toRoute`, `proxy`) of these types is the same for both, and
   * that no later state of the policies shares; `undefined` if there is none. The translator
   * then reuses what an `outboundPure` plugin configured for one proxy's part for every other.
   */
  outboundKey?(types: readonly string[]): string | undefined;
}

/** A tag of a client subset: `key` is `value`, or (`not`) is not. */
export interface ClientTag {
  readonly key: string;
  readonly value: string;
  readonly not: boolean;
}

/**
 * Per-client rules of an inbound, as Kuma computes them: `rules` from `rules[]` (each with at most
 * one match, most specific first), and `subsets` from the legacy `from[]` (Kuma's subset rules with
 * negations: the first whose subset holds the client's tags applies). The same object for proxies
 * selected by the same policies.
 */
export interface ClientRules {
  readonly rules: readonly { readonly matches: readonly unknown[]; readonly conf: unknown }[];
  readonly subsets: readonly { readonly subset: readonly ClientTag[]; readonly conf: unknown }[];
}

/** No policy applies (a mesh without policies, a proxy nothing selects). */
export const NO_POLICIES: ProxyPolicies = { toService: () => undefined, toAnyService: () => undefined, fromInbound: () => undefined, proxy: () => undefined };

/** What a plugin may read to decide a proxy's configuration (never the drafts of other proxies). */
export interface PluginContext {
  readonly mesh: string;
  readonly dataplane: DataplaneModel;
  readonly view: MeshState;
  readonly policies: ProxyPolicies;
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
  /**
   * The policy types whose rules `configure` and `parts` ask `ctx.policies` about (enforced: asking
   * about another throws). A change to a policy of other types leaves what this plugin did to a
   * proxy as it was, so the translator redoes only the plugins that read the changed types.
   */
  readonly reads: readonly string[];
  /**
   * For parts of outbound origin, `configure` reads only the part and the answers of
   * `ctx.policies` (not `ctx.dataplane` or `ctx.view`): proxies whose policies share an
   * `outboundKey` get the same value, so the translator asks once for all of them (a mesh-wide
   * change then costs per distinct part, not per proxy). Enforced: those fields throw.
   */
  readonly outboundPure?: boolean;
  configure(part: Part, ctx: PluginContext): unknown;
  apply(drafts: Draft[], conf: unknown, part: Part): void;
  /**
   * Parts this plugin adds to a proxy's translation, given the parts the configurers built (e.g.
   * the clusters and load assignments of a route's split, named as Kuma names them). Every
   * plugin then configures them like any other part, and a part with a `slot` is served by
   * reference, so it follows endpoint changes without its consumers being rebuilt.
   */
  parts?(built: readonly Part[], ctx: PluginContext): Part[];
}
