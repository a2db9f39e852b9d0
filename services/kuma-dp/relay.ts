import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { jsonToStruct } from '../../libs/xds/ads-codec.ts';
import { messageType } from '../../libs/xds/protos.ts';
import { rawStreams } from './raw-grpc.ts';

/** Raw pass-through definition: bytes in, bytes out. */
const RAW_ADS = rawStreams('envoy.service.discovery.v3.AggregatedDiscoveryService', ['StreamAggregatedResources', 'DeltaAggregatedResources']);
const Upstream = grpc.makeGenericClientConstructor(RAW_ADS, 'ADS');

export interface RelayOptions {
  readonly upstream: string;
  readonly caCert?: string;
  readonly token?: string;
  /** Added to the node metadata of each stream's first request (dataplane.resource, version). */
  readonly nodeMetadata: Record<string, unknown>;
  readonly port: number;
  readonly logger: Logger;
}

/** Adds `extra` to the node metadata of a (delta) discovery request. */
function withMetadata(buf: Buffer, delta: boolean, extra: Record<string, unknown>): Buffer {
  const type = messageType(delta ? 'envoy.service.discovery.v3.DeltaDiscoveryRequest' : 'envoy.service.discovery.v3.DiscoveryRequest');
  const msg = type.decode(buf) as unknown as { node?: { metadata?: { fields?: Record<string, unknown> } } };
  if (!msg.node) return buf;
  const fields = { ...(msg.node.metadata?.fields ?? {}), ...(jsonToStruct(extra)['fields'] as Record<string, unknown>) };
  const obj = type.toObject(msg as never, { defaults: false }) as Record<string, Record<string, unknown>>;
  obj['node'] = { ...obj['node'], metadata: { fields } };
  return Buffer.from(type.encode(type.fromObject(obj)).finish());
}

/**
 * The proxyless agent's local xDS relay: a plaintext ADS endpoint on 127.0.0.1 for the
 * application's gRPC library, forwarding each stream to the control plane over TLS with the
 * dataplane token, and adding the Dataplane to the first request so the control plane
 * registers it. Messages are relayed as bytes; only the first is rewritten.
 */
export async function startRelay(opts: RelayOptions): Promise<{ port: number; close(graceMs?: number): Promise<void> }> {
  const creds = opts.caCert ? grpc.credentials.createSsl(Buffer.from(opts.caCert)) : grpc.credentials.createSsl();
  const upstream = new Upstream(opts.upstream, creds);
  const server = new grpc.Server();
  const upstreamCalls = new Set<grpc.ClientDuplexStream<Buffer, Buffer>>();
  const relay = (name: 'StreamAggregatedResources' | 'DeltaAggregatedResources') => (down: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    const md = new grpc.Metadata();
    if (opts.token) md.set('authorization', opts.token);
    const up = (upstream as unknown as Record<string, (md: grpc.Metadata) => grpc.ClientDuplexStream<Buffer, Buffer>>)[name]!.call(upstream, md);
    upstreamCalls.add(up);
    up.on('close', () => upstreamCalls.delete(up));
    let first = true;
    down.on('data', (buf: Buffer) => {
      up.write(first ? withMetadata(buf, name === 'DeltaAggregatedResources', opts.nodeMetadata) : buf);
      first = false;
    });
    down.on('end', () => up.end());
    down.on('cancelled', () => up.cancel());
    down.on('close', () => up.cancel());
    up.on('data', (buf: Buffer) => down.write(buf));
    up.on('error', (err: grpc.ServiceError) => {
      opts.logger.warn({ component: 'kuma-dp', stream: name, code: err.code, err: err.details }, 'control plane closed the xDS stream');
      down.emit('error', { code: err.code, details: err.details });
    });
    up.on('end', () => down.end());
  };
  server.addService(RAW_ADS, { StreamAggregatedResources: relay('StreamAggregatedResources'), DeltaAggregatedResources: relay('DeltaAggregatedResources') });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  opts.logger.info({ component: 'kuma-dp', address: `127.0.0.1:${port}`, upstream: opts.upstream }, 'proxyless xDS relay listening');
  return {
    port,
    /** Lets streams end for up to `graceMs`, then cuts what is left. */
    close: async (graceMs = 2000) => {
      opts.logger.debug({ component: 'kuma-dp' }, 'relay: shutting down');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      opts.logger.debug({ component: 'kuma-dp', open: upstreamCalls.size }, 'relay: server closed');
      for (const up of upstreamCalls) up.cancel();
      upstream.close();
      opts.logger.debug({ component: 'kuma-dp' }, 'relay: upstream closed');
    },
  };
}
