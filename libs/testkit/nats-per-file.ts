import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import { NatsServer } from './nats-server.ts';

/**
 * A real nats-server and one connection to it, shared by the tests of one file (or `describe`):
 * started before them, closed and stopped after. Read `nc` and `server` inside tests and hooks.
 */
export function useNatsServer(): { readonly server: NatsServer; readonly nc: NatsConnection } {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('the nats-server is started in beforeAll: use it inside tests');
      return server;
    },
    get nc() {
      if (!nc) throw new Error('the NATS connection is opened in beforeAll: use it inside tests');
      return nc;
    },
  };
}
