import { connect } from '@nats-io/transport-node';
import { NatsServer } from '../testkit/nats-server.ts';
import { describeFabric } from './contract.ts';
import { NatsFabric } from './nats.ts';

describeFabric('nats', {
  open: async () => {
    const server = await NatsServer.start();
    const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const peerNc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    return {
      fabric: new NatsFabric(nc),
      peer: new NatsFabric(peerNc),
      // The server restarted (its data kept): both clients reconnect, core messages meanwhile are lost.
      interrupt: async () => {
        await server.kill();
        await server.restart();
      },
      close: async () => {
        await nc.close();
        await peerNc.close();
        await server.stop();
      },
    };
  },
});
