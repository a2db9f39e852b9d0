import { Names } from '../names.ts';
import { TypeUrl } from '../protos.ts';
import type { ProxyContext } from './context.ts';
import { ORIGINAL_DST_TYPE, socketAddress, tcpProxyFilter } from './filters.ts';
import { draft, type Draft, type Part } from './part.ts';

const passthroughCluster = (name: string): Draft =>
  draft(TypeUrl.Cluster, name, { name, type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: { seconds: 10 } });

const virtualListener = (name: string, port: number, direction: 'INBOUND' | 'OUTBOUND'): Draft =>
  draft(TypeUrl.Listener, name, {
    name,
    address: socketAddress('0.0.0.0', port),
    traffic_direction: direction,
    use_original_dst: { value: true },
    listener_filters: [{ name: 'envoy.filters.listener.original_dst', typed_config: { '@type': ORIGINAL_DST_TYPE } }],
    filter_chains: [{ filters: [tcpProxyFilter(name.replace(/:/g, '_'), name)] }],
  });

/**
 * With `transparentProxying`, iptables redirects traffic to the virtual listeners, which hand
 * connections to the listener of their original destination or pass them through.
 */
export function generateTransparentProxy(ctx: ProxyContext): Part[] {
  const tp = ctx.model.transparentProxying;
  if (!tp) return [];
  const inputs = [tp.redirectPortOutbound, tp.redirectPortInbound];
  return [
    {
      kind: 'tp',
      origin: { kind: 'proxy', aspect: 'transparent' },
      inputs,
      build: () => [
        virtualListener(Names.outboundPassthrough, tp.redirectPortOutbound, 'OUTBOUND'),
        passthroughCluster(Names.outboundPassthrough),
        virtualListener(Names.inboundPassthrough, tp.redirectPortInbound, 'INBOUND'),
        passthroughCluster(Names.inboundPassthrough),
      ],
    },
  ];
}
