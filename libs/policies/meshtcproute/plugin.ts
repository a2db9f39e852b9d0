import type { JsonObject } from '../../resources/validation.ts';
import { statPrefix, TCP_PROXY_TYPE } from '../../xds/generate/filters.ts';
import type { Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { TypeUrl } from '../../xds/protos.ts';
import { makeSplit, splitParts, type Split, type SplitCluster } from '../core/split.ts';
import { clusterSpecifier } from '../meshhttproute/envoy-routes.ts';
import type { MeshTCPRouteConf } from './conf.ts';

export const MESH_TCP_ROUTE = 'MeshTCPRoute';
const MESH_HTTP_ROUTE = 'MeshHTTPRoute';

interface Applied {
  readonly service: string;
  readonly splits: readonly Split[];
}

const isHttp = (protocol: string): boolean => protocol === 'http' || protocol === 'http2' || protocol === 'grpc';

/**
 * The split of an outbound listener's destination, as Kuma's getBackendRefs decides: an HTTP
 * destination is routed by MeshTCPRoute only when no MeshHTTPRoute configures it (then its
 * listener becomes a TCP proxy); any other destination whenever a MeshTCPRoute does.
 */
function splitOf(part: Part, ctx: PluginContext): { splits: Split[]; clusters: SplitCluster[] } | undefined {
  if ((part.kind !== 'out-lds' && part.kind !== 'lds-api') || part.origin.kind !== 'outbound') return undefined;
  const { service, protocol } = part.origin;
  const conf = ctx.policies.toService(MESH_TCP_ROUTE, service) as MeshTCPRouteConf | undefined;
  if (!conf) return undefined;
  if (isHttp(protocol) && ctx.policies.toService(MESH_HTTP_ROUTE, service) !== undefined) return undefined;
  const refs = conf.default?.backendRefs ?? conf.rules?.[0]?.default?.backendRefs;
  if (!refs) return undefined;
  const split = makeSplit(ctx.view, refs, 'tcp');
  return split && split.splits.length > 0 ? split : undefined;
}

/** Kuma's TCPProxy(service, splits...): one cluster, or weighted clusters. */
function tcpProxy(service: string, splits: readonly Split[]): JsonObject {
  const config: JsonObject = { '@type': TCP_PROXY_TYPE, stat_prefix: statPrefix(service) };
  if (splits.length === 1) config.cluster = splits[0]!.cluster;
  else config.weighted_clusters = { clusters: splits.map((s) => ({ name: s.cluster, weight: s.weight })) };
  return { name: 'envoy.filters.network.tcp_proxy', typed_config: config };
}

/** The one virtual host of a proxyless client's Listener (its api_listener's inline route configuration). */
function proxylessVirtualHost(listener: JsonObject): JsonObject | undefined {
  const hcm = (listener.api_listener as JsonObject | undefined)?.api_listener as JsonObject | undefined;
  return ((hcm?.route_config as JsonObject | undefined)?.virtual_hosts as JsonObject[] | undefined)?.[0];
}

/**
 * MeshTCPRoute (Kuma order 200): weighted backendRefs of TCP outbounds (the tcp_proxy's
 * weighted_clusters), with the clusters and load assignments the split needs. A proxyless gRPC
 * client has no TCP proxy: its destination's one route sends to the same weighted clusters.
 */
export const meshTcpRoutePlugin: TranslationPlugin = {
  name: MESH_TCP_ROUTE,
  order: 200,
  reads: [MESH_TCP_ROUTE, MESH_HTTP_ROUTE],
  configure(part, ctx): Applied | undefined {
    const split = splitOf(part, ctx);
    return split && part.origin.kind === 'outbound' ? { service: part.origin.service, splits: split.splits } : undefined;
  },
  apply(drafts, conf, part) {
    const { service, splits } = conf as Applied;
    for (const d of drafts) {
      if (d.typeUrl !== TypeUrl.Listener) continue;
      if (part.kind === 'lds-api') {
        const vh = proxylessVirtualHost(d.body);
        if (vh) vh.routes = [{ match: { prefix: '' }, route: clusterSpecifier(splits) }];
        continue;
      }
      for (const chain of (d.body.filter_chains as JsonObject[] | undefined) ?? []) chain.filters = [tcpProxy(service, splits)];
    }
  },
  parts(built, ctx) {
    const clusters = built.flatMap((p) => splitOf(p, ctx)?.clusters ?? []);
    return clusters.length ? splitParts(built, ctx, clusters) : [];
  },
};
