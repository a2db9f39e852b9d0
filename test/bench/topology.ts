/** The benchmark mesh: `proxies` Dataplanes over `services` HTTP services; every proxy calls svc-0 plus a few others. */
export interface Topology {
  readonly proxies: number;
  readonly services: number;
  readonly outbounds: number;
  /** Transparent proxying instead of `outbound[]`: every proxy gets every service of the mesh. */
  readonly transparent?: boolean;
}

export function dataplaneBody(t: Topology, i: number, port = 8080): Record<string, unknown> {
  const outbound = [0, ...Array.from({ length: t.outbounds - 1 }, (_, k) => 1 + ((i + k) % (t.services - 1)))].map((s, k) => ({
    port: 10001 + k,
    tags: { 'kuma.io/service': `svc-${s}` },
  }));
  return {
    type: 'Dataplane',
    mesh: 'default',
    name: `dp-${i}`,
    networking: {
      address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      inbound: [{ port, servicePort: 80, tags: { 'kuma.io/service': `svc-${i % t.services}`, 'kuma.io/protocol': 'http' } }],
      ...(t.transparent ? { transparentProxying: { redirectPortInbound: 15006, redirectPortOutbound: 15001 } } : { outbound }),
    },
  };
}
