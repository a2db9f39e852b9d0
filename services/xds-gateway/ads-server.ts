import * as grpc from '@grpc/grpc-js';
import { adsServiceDefinition } from '../../libs/xds/ads-service.ts';
import { DeltaStream } from './delta.ts';
import { SotwStream } from './sotw.ts';
import type { StreamDeps } from './stream.ts';

export function addAdsService(server: grpc.Server, deps: StreamDeps): void {
  server.addService(adsServiceDefinition, {
    StreamAggregatedResources: (call: grpc.ServerDuplexStream<unknown, Buffer>) => void new SotwStream(call, deps, 'sotw'),
    DeltaAggregatedResources: (call: grpc.ServerDuplexStream<unknown, Buffer>) => void new DeltaStream(call, deps, 'delta'),
  });
}

/** A grpc-js server tuned for many long-lived streams that reconnect in storms. */
export function createGrpcServer(): grpc.Server {
  return new grpc.Server({
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    // No channelz service is served; its per-call trackers cost memory on every stream.
    'grpc.enable_channelz': 0,
  });
}
