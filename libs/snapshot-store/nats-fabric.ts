import { connect, type NatsConnection } from '@nats-io/transport-node';
import { avoidRequestCancelCost } from '../event-log/nats-request-cost.ts';

/**
 * A connection for the NATS fabric (content, manifests, shared pointers, membership, status)
 * when it is not the log's own (KUMA_FABRIC_TYPE=nats beside another store): reconnecting
 * forever, as the JetStream log's connection does.
 */
export async function connectNatsFabric(servers: string, name: string): Promise<NatsConnection> {
  avoidRequestCancelCost();
  return connect({
    servers: servers.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    noAsyncTraces: true,
  });
}
