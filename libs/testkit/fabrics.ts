import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import { MemoryFabric } from '../fabric/memory.ts';
import { NatsFabric } from '../fabric/nats.ts';
import type { Fabric } from '../fabric/port.ts';
import { NatsServer } from './nats-server.ts';

/** One fabric of the file's tests: read `fabric` (and, on NATS, `server` and `nc`) inside tests and hooks. */
export interface FabricUnderTest {
  readonly name: 'memory' | 'nats';
  readonly fabric: Fabric;
  /** A second client of the same fabric, as another process has. */
  connectPeer(): Promise<Fabric>;
  /** NATS only: the server, to stop and restart. */
  readonly server: NatsServer | undefined;
}

/**
 * The fabrics the stores are tested on, for `describe.each`: the in-memory twin and a real
 * nats-server started for the file (before its tests, stopped after).
 */
export function useFabrics(): FabricUnderTest[] {
  let server: NatsServer | undefined;
  const connections: NatsConnection[] = [];
  let memory: MemoryFabric | undefined;
  let nats: NatsFabric | undefined;
  const connectNats = async () => {
    const nc = await connect({ servers: server!.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    connections.push(nc);
    return nc;
  };
  beforeAll(async () => {
    memory = new MemoryFabric();
    server = await NatsServer.start();
    nats = new NatsFabric(await connectNats());
  });
  afterAll(async () => {
    for (const nc of connections) await nc.close().catch(() => undefined);
    await server?.stop();
  });
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the fabrics are opened in beforeAll: use them inside tests');
    return v;
  };
  return [
    {
      name: 'memory',
      get fabric() {
        return need(memory);
      },
      connectPeer: async () => need(memory),
      server: undefined,
    },
    {
      name: 'nats',
      get fabric() {
        return need(nats);
      },
      connectPeer: async () => new NatsFabric(await connectNats()),
      get server() {
        return need(server);
      },
    },
  ];
}
