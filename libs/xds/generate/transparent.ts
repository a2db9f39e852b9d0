import { isObject } from '../../resources/validation.ts';
import { Names } from '../names.ts';
import { TypeUrl } from '../protos.ts';
import { makeResource, type XdsResource } from '../resource.ts';
import { networking, type ProxyContext } from './context.ts';
import { ORIGINAL_DST_TYPE, socketAddress, tcpProxyFilter } from './filters.ts';
import type { Generated } from './inbound.ts';

const passthroughCluster = (name: string): XdsResource =>
  makeResource(TypeUrl.Cluster, name, { name, type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: { seconds: 10 } });

const virtualListener = (name: string, port: number, direction: 'INBOUND' | 'OUTBOUND'): XdsResource =>
  makeResource(TypeUrl.Listener, name, {
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
export function generateTransparentProxy(ctx: ProxyContext): Generated {
  const tp = networking(ctx.dataplane)['transparentProxying'];
  if (!isObject(tp)) return { resources: [], namedOnly: [] };
  const outPort = Number(tp['redirectPortOutbound'] || 15001);
  const inPort = Number(tp['redirectPortInbound'] || 15006);
  return {
    resources: [
      virtualListener(Names.outboundPassthrough, outPort, 'OUTBOUND'),
      passthroughCluster(Names.outboundPassthrough),
      virtualListener(Names.inboundPassthrough, inPort, 'INBOUND'),
      passthroughCluster(Names.inboundPassthrough),
    ],
    namedOnly: [],
  };
}
