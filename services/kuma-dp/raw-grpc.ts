import type * as grpc from '@grpc/grpc-js';

const id = (b: Buffer) => b;

/**
 * A gRPC service definition whose methods are bidirectional streams of raw bytes (kuma-dp relays
 * and serves xDS messages it encodes itself): `rawStreams('pkg.Service', ['Method'])`.
 */
export function rawStreams(service: string, methods: readonly string[]): grpc.ServiceDefinition {
  const def: Record<string, unknown> = {};
  for (const m of methods) {
    def[m] = { path: `/${service}/${m}`, requestStream: true, responseStream: true, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id };
  }
  return def as unknown as grpc.ServiceDefinition;
}
