import type * as grpc from '@grpc/grpc-js';
import { decodeDeltaRequest, decodeRequest } from './ads-codec.ts';

const SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
const identity = (b: Buffer) => b;

/** The ADS service definition; responses are pre-encoded by the streams. */
export const adsServiceDefinition = {
  StreamAggregatedResources: {
    path: `/${SERVICE}/StreamAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: decodeRequest,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  DeltaAggregatedResources: {
    path: `/${SERVICE}/DeltaAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: decodeDeltaRequest,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
} as unknown as grpc.ServiceDefinition;
