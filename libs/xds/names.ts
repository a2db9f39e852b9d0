/** Envoy resource names, exactly as Kuma 2.14 names them by default (CONTRACT.md). */
export const Names = {
  inboundListener: (ip: string, port: number) => `inbound:${ip}:${port}`,
  outboundListener: (ip: string, port: number) => `outbound:${ip}:${port}`,
  localCluster: (servicePort: number) => `localhost:${servicePort}`,
  outboundCluster: (service: string) => service,
  outboundRoute: (service: string) => `outbound:${service}`,
  inboundRoute: (service: string) => `inbound:${service}`,
  adminListener: 'kuma:envoy:admin',
  adminCluster: 'kuma:envoy:admin',
  outboundPassthrough: 'outbound:passthrough:ipv4',
  inboundPassthrough: 'inbound:passthrough:ipv4',
  identitySecret: (mesh: string) => `identity_cert:secret:${mesh}`,
  meshCaSecret: (mesh: string) => `mesh_ca:secret:${mesh}`,
  /** Proxyless gRPC client listener: the name the client dials, `xds:///<service>`. */
  proxylessClientListener: (service: string) => service,
  /** Proxyless gRPC server listener (`server_listener_resource_name_template`). */
  proxylessServerListener: (ip: string, port: number) => `kuma.io/grpc/inbound/${ip.includes(':') ? `[${ip}]` : ip}:${port}`,
} as const;

export const PROXYLESS_SERVER_TEMPLATE = 'kuma.io/grpc/inbound/%s';
