import type { JsonObject } from '../../resources/validation.ts';
import type { CollectorEndpoint } from '../core/observability.ts';
import type { MeshTraceSpec } from './api.ts';

type Backend = NonNullable<MeshTraceSpec['default']['backends']>[number];

/** The cluster Kuma adds for a tracing backend (meshtrace plugin applyToClusters). */
export interface Collector {
  readonly cluster: string;
  readonly endpoint: CollectorEndpoint;
  readonly http2: boolean;
  /** Client-side TLS for an `https` Zipkin URL (Kuma's ClientSideTLS for an external endpoint). */
  readonly tls?: JsonObject;
}

const DEFAULT_OTEL_GRPC_PORT = 4317;

/** Kuma reads the port of a URL as a number, 0 when the URL has none. */
const urlPort = (url: URL): number => (url.port === '' ? 0 : Number(url.port));

/** `meshtrace:<provider>`, Kuma's GetTracingClusterName. */
export const clusterName = (provider: 'zipkin' | 'datadog' | 'opentelemetry'): string => `meshtrace:${provider}`;

export function collectorOf(b: Backend): Collector | undefined {
  if (b.zipkin) {
    const url = new URL(b.zipkin.url);
    const host = url.hostname;
    const tls =
      url.protocol === 'https:'
        ? {
            name: 'envoy.transport_sockets.tls',
            typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', sni: host, allow_renegotiation: true },
          }
        : undefined;
    return { cluster: clusterName('zipkin'), endpoint: { address: host, port: urlPort(url) }, http2: false, ...(tls ? { tls } : {}) };
  }
  if (b.datadog) {
    const url = new URL(b.datadog.url);
    return { cluster: clusterName('datadog'), endpoint: { address: url.hostname, port: urlPort(url) }, http2: false };
  }
  const endpoint = b.openTelemetry?.endpoint;
  if (endpoint === undefined) return undefined;
  const [address = '', port] = endpoint.split(':');
  return { cluster: clusterName('opentelemetry'), endpoint: { address, port: port === undefined ? DEFAULT_OTEL_GRPC_PORT : Number.parseInt(port, 10) || 0 }, http2: true };
}
