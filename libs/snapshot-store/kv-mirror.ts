import type { FabricBucket, FabricEntry, FabricWatch } from '../fabric/port.ts';

/** A running copy of a KV bucket: `stop` ends it; `done` settles when its watch ends (rejects on a failure, after `onFailure` heard of it). */
export interface KvMirror {
  stop(): void;
  readonly done: Promise<void>;
}

/**
 * Hands every current entry of `kv` (or of the keys under `prefix`), then every change, to
 * `apply` (deletes included: check `operation`). Resolves once the current entries are applied,
 * or after `readyMs` at most, so a slow bucket delays a start-up by a bounded time (with a
 * `prefix` that matches nothing yet, it always waits `readyMs`: pass 0 if nothing needs the
 * copy complete at once). A failure of the watch (or of `apply`) ends the copy, which then stays
 * as it was: `onFailure` is told, so the owner can log it.
 */
export async function mirrorKv(kv: FabricBucket, apply: (e: FabricEntry) => void, onFailure: (err: Error) => void, opts: { prefix?: string; readyMs?: number } = {}): Promise<KvMirror> {
  const readyMs = opts.readyMs ?? 5000;
  // Settled before the watch starts: an entry of the initial load may already fail.
  let settle!: { resolve: () => void; reject: (err: Error) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch((err: unknown) => onFailure(err instanceof Error ? err : new Error(String(err))));
  let dead = false;
  const held: { watch?: FabricWatch } = {};
  const failed = (err: Error) => {
    if (dead) return;
    dead = true;
    held.watch?.stop();
    settle.reject(err);
  };
  const w = (held.watch = await kv.watch(
    (e) => {
      if (dead) return;
      try {
        apply(e);
      } catch (err) {
        failed(err instanceof Error ? err : new Error(String(err)));
      }
    },
    opts.prefix !== undefined ? { prefix: opts.prefix } : {},
  ));
  if (dead) w.stop();
  w.done.then(settle.resolve, (err: unknown) => failed(err instanceof Error ? err : new Error(String(err))));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([w.loaded, new Promise((r) => (timer = setTimeout(r, readyMs)))]);
  clearTimeout(timer);
  return { stop: () => w.stop(), done };
}
