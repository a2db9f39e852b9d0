import * as xds from '@grpc/grpc-js-xds';
// grpc-js-xds' own resource validators (what its xDS client runs before it ACKs or NACKs); internal modules.
import { ClusterResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/cluster-resource-type.js';
import { EndpointResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js';
import { ListenerResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/listener-resource-type.js';
import { TypeUrl } from '../../libs/xds/protos.ts';

// The HTTP filters (router, fault, RBAC) and LB policies (ring hash, round robin, ...) the validators consult, as a process using grpc-js-xds registers them.
xds.register();

type Validator = { decode(ctx: unknown, r: { type_url: string; value: Uint8Array }): { error?: string } };
const validators: Partial<Record<string, Validator>> = {
  [TypeUrl.Cluster]: ClusterResourceType.get() as unknown as Validator,
  [TypeUrl.ClusterLoadAssignment]: EndpointResourceType.get() as unknown as Validator,
  [TypeUrl.Listener]: ListenerResourceType.get() as unknown as Validator,
};
const context = { bootstrap: { certificateProviders: {} }, server: { serverUri: 'x', serverFeatures: ['xds_v3'] } };

/** Whether grpc-js-xds validates resources of this type (Listener, Cluster, ClusterLoadAssignment). */
export const grpcValidates = (typeUrl: string): boolean => validators[typeUrl] !== undefined;

/** What grpc-js-xds' client would NACK the resource with, or undefined when it accepts it. */
export function grpcDecodeError(typeUrl: string, bytes: Uint8Array): string | undefined {
  const v = validators[typeUrl];
  if (!v) throw new Error(`grpc-js-xds has no validator for ${typeUrl}`);
  return v.decode(context, { type_url: typeUrl, value: Buffer.from(bytes) }).error;
}
