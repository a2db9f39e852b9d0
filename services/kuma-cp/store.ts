import { mkdirSync } from 'node:fs';
import type { EventLog } from '../../libs/event-log/port.ts';
import { openEmbeddedEventLog } from '../../libs/event-log/embedded.ts';
import { JetStreamEventLog } from '../../libs/event-log/jetstream.ts';
import { openMemoryEventLog } from '../../libs/event-log/memory.ts';
import { ConfigError, type KumaCpConfig } from '../../libs/platform/config.ts';
import { parseDuration } from '../../libs/platform/duration.ts';
import { MemoryCheckpointStore, type CheckpointStore } from '../../libs/projection/checkpoint.ts';
import { LevelCheckpointStore, NatsCheckpointStore } from '../../libs/projection/checkpoint-stores.ts';

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
        maxAgeMs: parseDuration(store.nats.maxAge) * 1000,
        name: `kuma-cp ${instanceId}`,
      });
    case 'postgres':
    case 'kubernetes':
      throw new ConfigError(`store.type: "${store.type}" is not available in this version; use memory, embedded or nats`);
  }
}

/** Opens where checkpoints are kept, beside the log: memory, a LevelDB next to the embedded log, or a NATS object store. */
export async function openCheckpointStore(config: KumaCpConfig, log: EventLog): Promise<CheckpointStore> {
  const store = config.store;
  switch (store.type) {
    case 'embedded':
      return LevelCheckpointStore.open(`${store.embedded.dataDir.replace(/\/+$/, '')}-checkpoints`);
    case 'nats':
      if (!(log instanceof JetStreamEventLog)) throw new Error('store.type nats needs the JetStream log');
      return NatsCheckpointStore.open(log.nc, store.nats.stream, store.nats.replicas);
    default:
      return new MemoryCheckpointStore();
  }
}
