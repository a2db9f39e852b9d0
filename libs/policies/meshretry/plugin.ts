import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { allRouteActions, listeners, networkConfigs, TCP_PROXY } from '../core/drafts.ts';
import { once } from '../core/once.ts';
import { forRoute, routeScoped, type RouteScoped } from '../core/route-confs.ts';
import type { MeshRetryConf } from './conf.ts';
import { proxylessGrpcRetryPolicy, routeRetryPolicy } from './retry-policy.ts';

export const TYPE = 'MeshRetry';

type Applied =
  | { readonly kind: 'tcp'; readonly maxConnectAttempt: number }
  | { readonly kind: 'routes'; readonly protocol: string; readonly scoped: RouteScoped<MeshRetryConf> }
  | { readonly kind: 'grpc-routes'; readonly scoped: RouteScoped<MeshRetryConf> };

/** MeshRetry (Kuma plugin order 1400): route retry policies for HTTP and gRPC, connect attempts for TCP. */
export const meshRetryPlugin: TranslationPlugin = {
  name: 'meshretry',
  order: 1400,
  reads: [TYPE],
  outboundPure: true,
  configure(part: Part, ctx: PluginContext): Applied | undefined {
    const o = part.origin;
    if (o.kind !== 'outbound') return undefined;
    if (part.kind === 'out-lds') {
      // Kuma: only a `tcp` service's TCP proxy; HTTP listeners route over RDS here (see `rds`).
      const conf = ctx.policies.toService(TYPE, o.service) as MeshRetryConf | undefined;
      const n = conf?.tcp?.maxConnectAttempt;
      return o.protocol === 'tcp' && n !== undefined ? once(conf!, 'tcp', () => ({ kind: 'tcp', maxConnectAttempt: n })) : undefined;
    }
    if (part.kind === 'rds' && (o.protocol === 'http' || o.protocol === 'grpc')) {
      const scoped = routeScoped<MeshRetryConf>(TYPE, o.service, part, ctx);
      const protocol = o.protocol;
      return scoped ? once(scoped, `routes|${protocol}`, () => ({ kind: 'routes', protocol, scoped })) : undefined;
    }
    if (part.kind === 'lds-api') {
      const scoped = routeScoped<MeshRetryConf>(TYPE, o.service, part, ctx);
      return scoped ? once(scoped, 'grpc-routes', () => ({ kind: 'grpc-routes', scoped })) : undefined;
    }
    return undefined;
  },
  apply(drafts: Draft[], value: unknown): void {
    const a = value as Applied;
    if (a.kind === 'tcp') {
      for (const l of listeners(drafts)) for (const tcp of networkConfigs(l.body, TCP_PROXY)) tcp['max_connect_attempts'] = { value: a.maxConnectAttempt };
      return;
    }
    for (const { route, action } of allRouteActions(drafts)) {
      const conf = forRoute(a.scoped, route['name']);
      const policy = a.kind === 'routes' ? routeRetryPolicy(conf, a.protocol) : proxylessGrpcRetryPolicy(conf);
      if (policy) action['retry_policy'] = policy;
    }
  },
};
