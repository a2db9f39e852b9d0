import { mkdirSync } from 'node:fs';
import type { EventLog } from '../../libs/event-log/port.ts';
import { openEmbeddedEventLog } from '../../libs/event-log/embedded.ts';
import { JetStreamEventLog } from '../../libs/event-log/jetstream.ts';
import { openMemoryEventLog } from '../../libs/event-log/memory.ts';
import { ConfigError, type KumaCpConfig } from '../../libs/platform/config.ts';

/** Opens the event log selected by `store.type`. */
export async function openEventLog(config: KumaCpConfig, instanceId: string): Promise<EventLog> {
  const store = config.store;
  switch (store.type) {
    case 'memory':
      return openMemoryEventLog();
    case 'embedded':
      mkdirSync(store.embedded.dataDir, { recursive: true });
      return openEmbeddedEventLog(store.embedded.dataDir);
    case 'nats':
      return JetStreamEventLog.open({
        servers: store.nats.url,
        stream: store.nats.stream,
        replicas: store.nats.replicas,
        name: `kuma-cp ${instanceId}`,
      });
    case 'postgres':
    case 'kubernetes':
      throw new ConfigError(`store.type: "${store.type}" is not available in this version; use memory, embedded or nats`);
  }
}
