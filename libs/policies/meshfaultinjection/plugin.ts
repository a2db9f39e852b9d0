import { once } from '../core/once.ts';
import { Names } from '../../xds/names.ts';
import { TypeUrl } from '../../xds/protos.ts';
import type { JsonObject } from '../../resources/validation.ts';
import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { apiListenerHcm, hcmsOf, insertBeforeRouter } from '../core/http-filters.ts';
import type { FaultInjectionConf, MeshFaultInjectionConf } from './conf.ts';
import { faultFilter, FAULT_FILTER } from './filters.ts';

export const MESH_FAULT_INJECTION = 'MeshFaultInjection';

/** What the plugin applies: the fault filters, rendered, for Envoy's inbound HCM or for a gRPC client's. */
interface Applied {
  readonly target: 'envoy' | 'grpc';
  readonly filters: JsonObject[];
}

/**
 * The filters of the faults that can be built. Validation rejects a bad duration, bandwidth or
 * percentage before it is stored; should one reach translation anyway, that fault is left out
 * rather than failing the proxy's whole configuration.
 */
function rendered(faults: readonly FaultInjectionConf[] | undefined, target: Applied['target']): Applied | undefined {
  const filters: JsonObject[] = [];
  for (const f of faults ?? []) {
    try {
      filters.push(faultFilter(f, target));
    } catch (e) {
      if (!(e instanceof Error) || !['DurationSyntaxError', 'BandwidthSyntaxError', 'PercentageError'].includes(e.name)) throw e;
    }
  }
  return filters.length ? { target, filters } : undefined;
}

/**
 * MeshFaultInjection (Kuma order 800): fault filters before the router of an inbound's HTTP
 * connection manager (Kuma applies `from` on the side that receives the traffic).
 *
 * Proxyless gRPC: grpc-js-xds servers have no server-side fault filter (they NACK a
 * non-optional one), so the server listeners `kuma.io/grpc/inbound/...` are left alone. A
 * proxyless client gets, in its api_listener HCM, the faults configured for traffic *to* the
 * destination (`toService`), which gRPC honours client-side (abort and delay).
 */
export const meshFaultInjectionPlugin: TranslationPlugin = {
  name: MESH_FAULT_INJECTION,
  order: 800,
  reads: [MESH_FAULT_INJECTION],
  outboundPure: true,
  configure(part, ctx): Applied | undefined {
    if (part.kind === 'inbound' && part.origin.kind === 'inbound') {
      const conf = ctx.policies.fromInbound(MESH_FAULT_INJECTION, part.origin.inbound) as MeshFaultInjectionConf | undefined;
      return conf?.http ? once(conf.http, 'envoy', () => rendered(conf.http, 'envoy')) : undefined;
    }
    if (part.kind === 'lds-api' && part.origin.kind === 'outbound') {
      const conf = ctx.policies.toService(MESH_FAULT_INJECTION, part.origin.service) as MeshFaultInjectionConf | undefined;
      return conf?.http ? once(conf.http, 'grpc', () => rendered(conf.http, 'grpc')) : undefined;
    }
    return undefined;
  },
  apply(drafts, conf, part) {
    const { target, filters } = conf as Applied;
    for (const d of drafts) {
      if (d.typeUrl !== TypeUrl.Listener) continue;
      if (target === 'envoy' && part.origin.kind === 'inbound' && d.name === Names.inboundListener(part.origin.inbound.address, part.origin.inbound.port)) {
        for (const hcm of hcmsOf(d)) {
          // Kuma adds no faults where some were applied already.
          if (!((hcm.http_filters as { name?: string }[] | undefined) ?? []).some((f) => f.name === FAULT_FILTER)) insertBeforeRouter(hcm, structuredClone(filters));
        }
      } else if (target === 'grpc') {
        const hcm = apiListenerHcm(d);
        if (hcm) insertBeforeRouter(hcm, structuredClone(filters));
      }
    }
  },
};
