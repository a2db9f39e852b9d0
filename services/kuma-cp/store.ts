import { mkdirSync } from 'node:fs';
import type { EventLog } from '../../libs/event-log/port.ts';
import { openEmbeddedEventLog } from '../../libs/event-log/embedded.ts';
import { JetStreamEventLog } from '../../libs/event-log/jetstream.ts';
import { openMemoryEventLog } from '../../libs/event-log/memory.ts';
import { PostgresEventLog } from '../../libs/event-log/postgres.ts';
import { explainConnectError, postgresAddresses, postgresPoolConfig, replicaPoolConfig } from '../../libs/event-log/postgres-connection.ts';
import { checkSchema, SchemaError } from '../../libs/event-log/postgres-schema.ts';
import { ConfigError, type KumaCpConfig } from '../../libs/platform/config.ts';
import { parseDuration } from '../../libs/platform/duration.ts';
import { MemoryCheckpointStore, type CheckpointStore } from '../../libs/projection/checkpoint.ts';
import { LevelCheckpointStore, NatsCheckpointStore, PostgresCheckpointStore } from '../../libs/projection/checkpoint-stores.ts';
import pg from 'pg';

/** Opens the event log selected by `store.type`. */
export async function openEventLog(config: KumaCpConfig, instanceId: string): Promise<EventLog> {
  const store = config.store;
  const openJetStream = () =>
    JetStreamEventLog.open({
      servers: store.nats.url,
      stream: store.nats.stream,
      replicas: store.nats.replicas,
      maxAgeMs: parseDuration(store.nats.maxAge) * 1000,
      name: `kuma-cp ${instanceId}`,
    });
  switch (store.type) {
    case 'memory':
      return openMemoryEventLog();
    case 'embedded':
      mkdirSync(store.embedded.dataDir, { recursive: true });
      return openEmbeddedEventLog(store.embedded.dataDir);
    case 'nats':
      return openJetStream();
    case 'postgres':
      return openPostgresEventLog(config, `kuma-cp ${instanceId}`);
    case 'kubernetes':
      // The cluster's custom resources feed this log (libs/kubernetes/log-source.ts): beside the
      // process, or in JetStream, shared by every replica (each observed change appended once).
      if (store.kubernetes.log === 'nats') return openJetStream();
      mkdirSync(store.embedded.dataDir, { recursive: true });
      return openEmbeddedEventLog(store.embedded.dataDir);
  }
}

/**
 * The PostgreSQL log, after checking that the database is reachable with these settings and
 * its schema is this kuma-cp's (`kuma-cp migrate up` brings it there): a ConfigError naming the
 * setting otherwise.
 */
export async function openPostgresEventLog(config: KumaCpConfig, applicationName: string, onError?: (err: Error, what: string) => void): Promise<PostgresEventLog> {
  const c = config.store.postgres;
  const dial = await postgresAddresses(c);
  const poolConfig = postgresPoolConfig(c, applicationName, dial);
  const probe = new pg.Pool({ ...poolConfig, max: 1, min: 0 });
  probe.on('error', () => undefined);
  try {
    await probe.query('SELECT 1');
    await checkSchema(probe, { tolerateNewer: c.tolerateNewerDbVersions });
  } catch (err) {
    if (err instanceof SchemaError) throw new ConfigError(`store.postgres: the database ${c.dbName} at ${c.host}:${c.port}: ${err.message}`);
    throw explainConnectError(err, c);
  } finally {
    await probe.end().catch(() => undefined);
  }
  const replica = replicaPoolConfig(c, applicationName, dial);
  return PostgresEventLog.open({ pool: poolConfig, ...(replica ? { replica } : {}), ...(onError ? { onError } : {}) });
}

/** Opens where checkpoints are kept, beside the log: memory, a LevelDB next to the embedded log, or a NATS object store. */
export async function openCheckpointStore(config: KumaCpConfig, log: EventLog): Promise<CheckpointStore> {
  const store = config.store;
  switch (store.type) {
    case 'embedded':
      return LevelCheckpointStore.open(`${store.embedded.dataDir.replace(/\/+$/, '')}-checkpoints`);
    case 'kubernetes':
      if (store.kubernetes.log !== 'nats') return LevelCheckpointStore.open(`${store.embedded.dataDir.replace(/\/+$/, '')}-checkpoints`);
      if (!(log instanceof JetStreamEventLog)) throw new Error('store.kubernetes.log nats needs the JetStream log');
      return NatsCheckpointStore.open(log.nc, store.nats.stream, store.nats.replicas);
    case 'nats':
      if (!(log instanceof JetStreamEventLog)) throw new Error('store.type nats needs the JetStream log');
      return NatsCheckpointStore.open(log.nc, store.nats.stream, store.nats.replicas);
    case 'postgres':
      if (!(log instanceof PostgresEventLog)) throw new Error('store.type postgres needs the PostgreSQL log');
      return new PostgresCheckpointStore(log.database);
    default:
      return new MemoryCheckpointStore();
  }
}
