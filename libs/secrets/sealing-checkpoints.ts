import type { CheckpointMeta, CheckpointResourceCodec, CheckpointStore } from '../projection/checkpoint.ts';

/**
 * A CheckpointStore whose checkpoints hold confidential specs sealed: it gives every encoder
 * and decoder of its checkpoints (`codec`) the store encryption's sealer. Storage is delegated.
 */
export class SealingCheckpointStore implements CheckpointStore {
  constructor(
    private readonly inner: CheckpointStore,
    readonly codec: CheckpointResourceCodec,
  ) {}

  get kind(): string {
    return this.inner.kind;
  }
  list(): Promise<CheckpointMeta[]> {
    return this.inner.list();
  }
  save(meta: CheckpointMeta, data: Uint8Array): Promise<void> {
    return this.inner.save(meta, data);
  }
  load(seq: number): Promise<Uint8Array | undefined> {
    return this.inner.load(seq);
  }
  delete(seq: number): Promise<void> {
    return this.inner.delete(seq);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
