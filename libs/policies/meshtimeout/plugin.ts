import type { JsonObject } from '../../resources/validation.ts';
import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { allRouteActions } from '../core/drafts.ts';
import { durationOr } from '../core/proto-duration.ts';
import { once } from '../core/once.ts';
import { forRoute, routeScoped, type RouteScoped } from '../core/route-confs.ts';
import { DEFAULTS, type MeshTimeoutConf } from './conf.ts';
import { clusterBodies, clusterConf, configureCluster, configureListener, configureRouteConfigs, listenerBodies, outboundListenerConf } from './configurers.ts';

export const TYPE = 'MeshTimeout';

/** What MeshTimeout applies to one part (the part's cache key): the merged configuration(s) for its origin. */
type Applied =
  | { readonly kind: 'inbound'; readonly protocol: string; readonly conf: MeshTimeoutConf }
  | { readonly kind: 'cluster' | 'listener'; readonly protocol: string; readonly conf: MeshTimeoutConf }
  | { readonly kind: 'routes' | 'grpc-routes'; readonly scoped: RouteScoped<MeshTimeoutConf> };

/**
 * gRPC honours a route's max_stream_duration (gRFC A31): the request timeout goes there, as both
 * the stream's limit and the cap of the client's grpc-timeout header.
 */
function configureGrpcRoutes(drafts: readonly Draft[], scoped: RouteScoped<MeshTimeoutConf>): void {
  for (const { route, action } of allRouteActions(drafts)) {
    const conf = forRoute(scoped, route['name']);
    if (!conf) continue;
    const d = durationOr(conf.http?.requestTimeout, DEFAULTS.requestTimeout);
    action['max_stream_duration'] = { max_stream_duration: d, grpc_timeout_header_max: d } satisfies JsonObject;
  }
}

/** MeshTimeout (Kuma plugin order 1000): connection, idle, stream and request timeouts. */
export const meshTimeoutPlugin: TranslationPlugin = {
  name: 'meshtimeout',
  order: 1000,
  reads: [TYPE],
  outboundPure: true,
  configure(part: Part, ctx: PluginContext): Applied | undefined {
    const o = part.origin;
    if (o.kind === 'inbound') {
      const conf = ctx.policies.fromInbound(TYPE, o.inbound) as MeshTimeoutConf | undefined;
      return part.kind === 'inbound' && conf ? once(conf, `inbound|${o.inbound.protocol}`, () => ({ kind: 'inbound', protocol: o.inbound.protocol, conf })) : undefined;
    }
    if (o.kind !== 'outbound') return undefined;
    switch (part.kind) {
      case 'cds':
      case 'out-lds': {
        const conf = ctx.policies.toService(TYPE, o.service) as MeshTimeoutConf | undefined;
        const kind = part.kind === 'cds' ? 'cluster' : 'listener';
        // Only the fields the part reads: a mesh-wide request timeout change moves routes, not clusters and listeners.
        const narrow = kind === 'cluster' ? clusterConf : outboundListenerConf;
        return conf ? once(conf, `${kind}|${o.protocol}`, () => ({ kind, protocol: o.protocol, conf: narrow(conf, o.protocol) })) : undefined;
      }
      case 'rds':
      case 'lds-api': {
        const scoped = routeScoped<MeshTimeoutConf>(TYPE, o.service, part, ctx);
        const kind = part.kind === 'rds' ? 'routes' : 'grpc-routes';
        return scoped ? once(scoped, kind, () => ({ kind, scoped })) : undefined;
      }
      default:
        return undefined;
    }
  },
  apply(drafts: Draft[], value: unknown): void {
    const a = value as Applied;
    switch (a.kind) {
      case 'inbound':
        // The inbound listener (not the proxyless gRPC server listeners, which gRPC serves itself) and the local cluster.
        for (const l of listenerBodies(drafts, false)) configureListener(l, a.conf, a.protocol);
        for (const c of clusterBodies(drafts)) configureCluster(c, a.conf, a.protocol);
        return;
      case 'cluster':
        for (const c of clusterBodies(drafts)) configureCluster(c, a.conf, a.protocol);
        return;
      case 'listener':
        for (const l of listenerBodies(drafts, false)) configureListener(l, a.conf, a.protocol);
        return;
      case 'routes':
        configureRouteConfigs(drafts, a.scoped.to, (name) => forRoute(a.scoped, name));
        return;
      case 'grpc-routes':
        configureGrpcRoutes(drafts, a.scoped);
        return;
    }
  },
};
