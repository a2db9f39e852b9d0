import type { JsonObject } from '../../resources/validation.ts';
import type { Draft } from '../../xds/generate/part.ts';

/**
 * HTTP filter chain surgery shared by policy plugins (Kuma's UpdateHTTPConnectionManager and
 * InsertHTTPFiltersBeforeRouter, pkg/plugins/policies/core/xds).
 */

const HCM_NAME = 'envoy.filters.network.http_connection_manager';
const ROUTER_NAME = 'envoy.filters.http.router';

/** The HttpConnectionManager configs of a listener draft's filter chains (none for a TCP proxy). */
export function hcmsOf(d: Draft): JsonObject[] {
  const chains = (d.body.filter_chains as JsonObject[] | undefined) ?? [];
  return chains.flatMap((c) => ((c.filters as JsonObject[] | undefined) ?? []).filter((f) => f.name === HCM_NAME).map((f) => f.typed_config as JsonObject));
}

/** The HttpConnectionManager of a proxyless gRPC client listener (`api_listener`), if any. */
export function apiListenerHcm(d: Draft): JsonObject | undefined {
  return (d.body.api_listener as JsonObject | undefined)?.api_listener as JsonObject | undefined;
}

/** Inserts `filters` right before the router (at the end when there is none), in their order. */
export function insertBeforeRouter(hcm: JsonObject, filters: readonly JsonObject[]): void {
  const list = (hcm.http_filters as JsonObject[] | undefined) ?? [];
  const at = list.findIndex((f) => f.name === ROUTER_NAME);
  list.splice(at < 0 ? list.length : at, 0, ...filters);
  hcm.http_filters = list;
}

/** Replaces the filter named like `filter`, or inserts it before the router. */
export function upsertHttpFilter(hcm: JsonObject, filter: JsonObject): void {
  const list = (hcm.http_filters as JsonObject[] | undefined) ?? [];
  const at = list.findIndex((f) => f.name === filter.name);
  if (at >= 0) list[at] = filter;
  else insertBeforeRouter(hcm, [filter]);
}
