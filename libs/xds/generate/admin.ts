import { Names } from '../names.ts';
import { TypeUrl } from '../protos.ts';
import type { ProxyContext } from './context.ts';
import { hcmConfig, hcmFilter, socketAddress } from './filters.ts';
import { draft, type Part } from './part.ts';

const isLoopback = (a: string) => a === 'localhost' || a.startsWith('127.') || a === '::1';

/**
 * `kuma:envoy:admin`: exposes only Envoy's `/ready` on the Dataplane's address, so health
 * checkers can reach it while the admin API itself stays on loopback. Skipped when the
 * Dataplane's address is loopback (the admin port is already bound there).
 */
export function generateAdmin(ctx: ProxyContext): Part[] {
  const { address, adminPort: port } = ctx.model;
  if (isLoopback(address)) return [];
  const routeConfig = {
    name: Names.adminListener,
    virtual_hosts: [
      {
        name: Names.adminListener,
        domains: ['*'],
        routes: [{ match: { path: '/ready' }, route: { cluster: Names.adminCluster, prefix_rewrite: '/ready' } }],
      },
    ],
  };
  return [
    {
      kind: 'admin',
      origin: { kind: 'proxy', aspect: 'admin' },
      inputs: [address, port],
      build: () => [
        draft(TypeUrl.Listener, Names.adminListener, {
          name: Names.adminListener,
          address: socketAddress(address, port),
          traffic_direction: 'INBOUND',
          filter_chains: [{ filters: [hcmFilter(hcmConfig({ statPrefix: 'kuma_envoy_admin', routeConfig }))] }],
        }),
        draft(TypeUrl.Cluster, Names.adminCluster, {
          name: Names.adminCluster,
          type: 'STATIC',
          connect_timeout: { seconds: 10 },
          load_assignment: {
            cluster_name: Names.adminCluster,
            endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress('127.0.0.1', port) } }] }],
          },
        }),
      ],
    },
  ];
}
