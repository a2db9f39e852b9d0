import { ClassicLevel } from 'classic-level';
import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type pg from 'pg';
import type { CheckpointMeta, CheckpointStore } from './checkpoint.ts';

const seqKey = (seq: number) => seq.toString().padStart(16, '0');

/** Checkpoints in a LevelDB of their own, next to the embedded log's (`<dataDir>-checkpoints`). */
export class LevelCheckpointStore implements CheckpointStore {
  readonly kind = 'embedded';
  private constructor(private readonly db: ClassicLevel<string, Uint8Array>) {}

  static async open(dir: string): Promise<LevelCheckpointStore> {
    const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    return new LevelCheckpointStore(db);
  }

  async list(): Promise<CheckpointMeta[]> {
    const out: CheckpointMeta[] = [];
    for await (const v of this.db.values({ gte: 'm!', lt: 'm!\xff' })) out.push(JSON.parse(Buffer.from(v).toString('utf8')) as CheckpointMeta);
    return out;
  }
  async save(meta: CheckpointMeta, data: Uint8Array): Promise<void> {
    await this.db.batch(
      [
        { type: 'put', key: `d!${seqKey(meta.seq)}`, value: data },
        { type: 'put', key: `m!${seqKey(meta.seq)}`, value: Buffer.from(JSON.stringify(meta)) },
      ],
      { sync: true },
    );
  }
  async load(seq: number): Promise<Uint8Array | undefined> {
    return (await this.db.get(`d!${seqKey(seq)}`)) ?? undefined;
  }
  async delete(seq: number): Promise<void> {
    await this.db.batch([
      { type: 'del', key: `m!${seqKey(seq)}` },
      { type: 'del', key: `d!${seqKey(seq)}` },
    ]);
  }
  async close(): Promise<void> {
    await this.db.close();
  }
}

/**
 * Checkpoints in a NATS object store bucket (`<stream>_CHECKPOINTS`), so every replica of a
 * clustered control plane starts from the same ones. The meta rides in the object's metadata.
 */
export class NatsCheckpointStore implements CheckpointStore {
  readonly kind = 'nats';
  private constructor(private readonly bucket: ObjectStore) {}

  static async open(nc: NatsConnection, stream: string, replicas: number): Promise<NatsCheckpointStore> {
    const bucket = await new Objm(nc).create(`${stream}_CHECKPOINTS`, { replicas, description: 'kuma-cp projection checkpoints' });
    return new NatsCheckpointStore(bucket);
  }

  async list(): Promise<CheckpointMeta[]> {
    const infos = await this.bucket.list();
    return infos
      .filter((i) => !i.deleted && i.metadata?.['checkpoint'])
      .map((i) => JSON.parse(i.metadata!['checkpoint']!) as CheckpointMeta)
      .sort((a, b) => a.seq - b.seq);
  }
  async save(meta: CheckpointMeta, data: Uint8Array): Promise<void> {
    await this.bucket.putBlob({ name: `state-${seqKey(meta.seq)}`, metadata: { checkpoint: JSON.stringify(meta) } }, data);
  }
  async load(seq: number): Promise<Uint8Array | undefined> {
    return (await this.bucket.getBlob(`state-${seqKey(seq)}`)) ?? undefined;
  }
  async delete(seq: number): Promise<void> {
    await this.bucket.delete(`state-${seqKey(seq)}`).catch(() => undefined);
  }
  async close(): Promise<void> {}
}

/** Checkpoints in the PostgreSQL store's `kuma_checkpoints` table, beside the log, shared by every replica on the database. */
export class PostgresCheckpointStore implements CheckpointStore {
  readonly kind = 'postgres';
  constructor(private readonly db: pg.Pool) {}

  async list(): Promise<CheckpointMeta[]> {
    const r = await this.db.query<{ meta: CheckpointMeta }>('SELECT meta FROM kuma_checkpoints ORDER BY seq');
    return r.rows.map((row) => row.meta);
  }
  async save(meta: CheckpointMeta, data: Uint8Array): Promise<void> {
    await this.db.query('INSERT INTO kuma_checkpoints (seq, meta, data) VALUES ($1, $2, $3) ON CONFLICT (seq) DO NOTHING', [meta.seq, JSON.stringify(meta), Buffer.from(data)]);
  }
  async load(seq: number): Promise<Uint8Array | undefined> {
    const r = await this.db.query<{ data: Buffer }>('SELECT data FROM kuma_checkpoints WHERE seq = $1', [seq]);
    return r.rows[0]?.data;
  }
  async delete(seq: number): Promise<void> {
    await this.db.query('DELETE FROM kuma_checkpoints WHERE seq = $1', [seq]);
  }
  /** The pool belongs to the log, which closes it. */
  async close(): Promise<void> {}
}
