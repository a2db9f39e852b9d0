import { once } from '../core/once.ts';
import type { JsonObject } from '../../resources/validation.ts';
import { Names } from '../../xds/names.ts';
import { TypeUrl } from '../../xds/protos.ts';
import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { hcmsOf, upsertHttpFilter } from '../core/http-filters.ts';
import type { MeshRateLimitConf } from './conf.ts';
import { httpRateLimitFilter, routeRateLimit, TCP_RATE_LIMIT_FILTER, tcpRateLimitFilter } from './filters.ts';

export const MESH_RATE_LIMIT = 'MeshRateLimit';

/** What the plugin applies to an inbound: the per-route HTTP limit and the connection limit, rendered. */
interface Applied {
  readonly http?: JsonObject;
  readonly tcp?: JsonObject;
}

/**
 * A limit whose interval validation would have rejected (not a Go duration) is left out rather
 * than failing the proxy's whole configuration.
 */
function buildable(build: () => JsonObject | undefined): JsonObject | undefined {
  try {
    return build();
  } catch (e) {
    if (e instanceof Error && e.name === 'DurationSyntaxError') return undefined;
    throw e;
  }
}

/**
 * MeshRateLimit (Kuma order 900): local rate limits on the inbound listener (`from`): the HTTP
 * local_ratelimit filter before the router with the token bucket on every route of the inbound
 * route configuration, and the network local_ratelimit filter first in the filter chain.
 * Proxyless gRPC server listeners are left alone: grpc-js-xds has no rate limit filter and
 * would NACK a non-optional one.
 */
export const meshRateLimitPlugin: TranslationPlugin = {
  name: MESH_RATE_LIMIT,
  order: 900,
  reads: [MESH_RATE_LIMIT],
  outboundPure: true,
  configure(part, ctx): Applied | undefined {
    if (part.kind !== 'inbound' || part.origin.kind !== 'inbound') return undefined;
    const conf = ctx.policies.fromInbound(MESH_RATE_LIMIT, part.origin.inbound) as MeshRateLimitConf | undefined;
    if (!conf?.local) return undefined;
    const local = conf.local;
    return once(local, 'inbound', () => {
      const http = local.http ? buildable(() => routeRateLimit(local.http!)) : undefined;
      const tcp = local.tcp ? buildable(() => tcpRateLimitFilter(local.tcp!)) : undefined;
      return http || tcp ? { ...(http ? { http } : {}), ...(tcp ? { tcp } : {}) } : undefined;
    });
  },
  apply(drafts, conf, part) {
    const { http, tcp } = conf as Applied;
    if (part.origin.kind !== 'inbound') return;
    const name = Names.inboundListener(part.origin.inbound.address, part.origin.inbound.port);
    for (const d of drafts) {
      if (d.typeUrl !== TypeUrl.Listener || d.name !== name) continue;
      if (http) {
        for (const hcm of hcmsOf(d)) {
          const routeConfig = hcm.route_config as JsonObject | undefined;
          if (!routeConfig) continue;
          for (const vh of (routeConfig.virtual_hosts as JsonObject[] | undefined) ?? []) {
            for (const route of (vh.routes as JsonObject[] | undefined) ?? []) {
              const perFilter = (route.typed_per_filter_config as JsonObject | undefined) ?? {};
              perFilter['envoy.filters.http.local_ratelimit'] ??= structuredClone(http);
              route.typed_per_filter_config = perFilter;
            }
          }
          upsertHttpFilter(hcm, httpRateLimitFilter());
        }
      }
      if (tcp) {
        for (const chain of (d.body.filter_chains as JsonObject[] | undefined) ?? []) {
          const filters = (chain.filters as JsonObject[] | undefined) ?? [];
          const at = filters.findIndex((f) => f.name === TCP_RATE_LIMIT_FILTER);
          if (at >= 0) filters[at] = structuredClone(tcp);
          else filters.unshift(structuredClone(tcp));
          chain.filters = filters;
        }
      }
    }
  },
};
