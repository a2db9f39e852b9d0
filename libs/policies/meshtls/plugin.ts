import type { JsonObject } from '../../resources/validation.ts';
import type { TranslationPlugin } from '../../xds/generate/plugin.ts';
import { acceptPlaintext, proxyTlsOf, requireTls, tlsChainOf } from '../../xds/generate/tls.ts';
import { Names } from '../../xds/names.ts';
import { TypeUrl } from '../../xds/protos.ts';
import { once } from '../core/once.ts';
import type { MeshTLSConf } from './api.ts';

export const MESH_TLS = 'MeshTLS';

const ENVOY_VERSION: Record<string, string> = { TLSAuto: 'TLS_AUTO', TLS10: 'TLSv1_0', TLS11: 'TLSv1_1', TLS12: 'TLSv1_2', TLS13: 'TLSv1_3' };

/** What the plugin applies to an inbound: the mode, and Envoy's TLS parameters. */
interface Applied {
  readonly mode?: 'Permissive' | 'Strict';
  readonly params?: JsonObject;
}

function applied(conf: MeshTLSConf): Applied | undefined {
  const params: JsonObject = {};
  if (conf.tlsVersion?.min) params['tls_minimum_protocol_version'] = ENVOY_VERSION[conf.tlsVersion.min];
  if (conf.tlsVersion?.max) params['tls_maximum_protocol_version'] = ENVOY_VERSION[conf.tlsVersion.max];
  if (conf.tlsCiphers?.length) params['cipher_suites'] = [...conf.tlsCiphers];
  if (!conf.mode && Object.keys(params).length === 0) return undefined;
  return { ...(conf.mode ? { mode: conf.mode } : {}), ...(Object.keys(params).length ? { params } : {}) };
}

const tlsContext = (chain: JsonObject) => ((chain['transport_socket'] as JsonObject | undefined)?.['typed_config'] as JsonObject | undefined);

/**
 * MeshTLS (Kuma order 300): an inbound's mTLS mode and TLS parameters, over the mesh's. Strict
 * accepts only mesh clients with certificates; Permissive also plaintext, told apart by the TLS
 * inspector; `tlsVersion` and `tlsCiphers` become Envoy's tls_params. Only with the mesh's mTLS
 * (Kuma's rule). Proxyless gRPC servers take the mode (a client certificate required or not: gRPC
 * cannot accept plaintext beside TLS) and no tls_params, which grpc-js-xds refuses.
 */
export const meshTlsPlugin: TranslationPlugin = {
  name: MESH_TLS,
  order: 300,
  reads: [MESH_TLS],
  configure(part, ctx): Applied | undefined {
    if (part.kind !== 'inbound' || part.origin.kind !== 'inbound') return undefined;
    if (!proxyTlsOf(ctx.mesh, ctx.view, ctx.dataplane)) return undefined;
    const conf = ctx.policies.fromInbound(MESH_TLS, part.origin.inbound) as MeshTLSConf | undefined;
    return conf ? once(conf, 'applied', () => applied(conf)) : undefined;
  },
  apply(drafts, conf, part) {
    const a = conf as Applied;
    if (part.origin.kind !== 'inbound') return;
    const envoyName = Names.inboundListener(part.origin.inbound.address, part.origin.inbound.port);
    for (const d of drafts) {
      if (d.typeUrl !== TypeUrl.Listener) continue;
      const chains = (d.body['filter_chains'] as JsonObject[] | undefined) ?? [];
      if (d.name !== envoyName) {
        // A proxyless server listener: the client certificate is required in Strict only.
        if (!d.name.startsWith('kuma.io/grpc/inbound/') || !a.mode) continue;
        for (const c of chains) {
          const tls = tlsContext(c);
          if (tls) tls['require_client_certificate'] = { value: a.mode === 'Strict' };
        }
        continue;
      }
      const tlsChain = tlsChainOf(d.body);
      if (!tlsChain) continue;
      if (a.mode === 'Strict') requireTls(d.body);
      else if (a.mode === 'Permissive') acceptPlaintext(d.body);
      if (a.params) {
        const common = tlsContext(tlsChain)?.['common_tls_context'] as JsonObject | undefined;
        if (common) common['tls_params'] = structuredClone(a.params);
      }
    }
  },
};
