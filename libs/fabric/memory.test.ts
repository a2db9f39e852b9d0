import { describeFabric } from './contract.ts';
import { MemoryFabric } from './memory.ts';

describeFabric('memory', {
  open: async () => {
    const fabric = new MemoryFabric();
    return {
      fabric,
      // One in-memory fabric is one "server": every role given it is a client of the same state.
      peer: fabric,
      interrupt: async () => {
        fabric.disconnect();
        await new Promise((r) => setTimeout(r, 10));
        fabric.reconnect();
      },
      close: async () => undefined,
    };
  },
});
