import type { JsonObject } from '../../libs/resources/validation.ts';
import { HTTP_OPTIONS_TYPE } from '../../libs/xds/generate/filters.ts';

export interface BootstrapParams {
  readonly proxyKey: string;
  readonly service: string;
  /** Host and port of the data plane server as the proxy reaches it. */
  readonly xdsHost: string;
  readonly xdsPort: number;
  /** PEM of the CA that signs the data plane server's certificate. */
  readonly caCert: string;
  readonly token?: string;
  readonly adminPort: number;
  /** The Dataplane to register on connect (kuma-dp --dataplane-file), as JSON. */
  readonly dataplaneResource?: string;
  readonly version?: JsonObject;
}

const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** Envoy's bootstrap (envoy.config.bootstrap.v3.Bootstrap, proto-JSON) pointing at ADS over TLS. */
export function envoyBootstrap(p: BootstrapParams): JsonObject {
  return {
    node: {
      id: p.proxyKey,
      cluster: p.service,
      metadata: {
        'dataplane.admin.port': String(p.adminPort),
        ...(p.dataplaneResource ? { 'dataplane.resource': p.dataplaneResource } : {}),
        ...(p.version ? { version: p.version } : {}),
      },
    },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: p.adminPort } } },
    dynamic_resources: {
      ads_config: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        set_node_on_first_message_only: true,
        grpc_services: [
          {
            envoy_grpc: { cluster_name: 'ads_cluster' },
            ...(p.token ? { initial_metadata: [{ key: 'authorization', value: p.token }] } : {}),
          },
        ],
      },
      cds_config: { ads: {}, resource_api_version: 'V3' },
      lds_config: { ads: {}, resource_api_version: 'V3' },
    },
    static_resources: {
      clusters: [
        {
          name: 'ads_cluster',
          type: 'STRICT_DNS',
          connect_timeout: { seconds: 1 },
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': HTTP_OPTIONS_TYPE, explicit_http_config: { http2_protocol_options: {} } },
          },
          load_assignment: {
            cluster_name: 'ads_cluster',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: p.xdsHost, port_value: p.xdsPort } } } }] }],
          },
          transport_socket: {
            name: 'envoy.transport_sockets.tls',
            typed_config: {
              '@type': UPSTREAM_TLS,
              sni: p.xdsHost,
              common_tls_context: {
                tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
                validation_context: { trusted_ca: { inline_string: p.caCert }, match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: p.xdsHost } }] },
              },
            },
          },
        },
      ],
    },
    layered_runtime: { layers: [{ name: 'kuma', static_layer: { 're2.max_program_size.error_level': 4294967295 } }] },
  };
}
