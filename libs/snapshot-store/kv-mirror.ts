import type { KV, KvEntry } from '@nats-io/kv';

/** A running copy of a KV bucket: `stop` ends it; `done` settles when its watch ends (rejects on a failure, after `onFailure` heard of it). */
export interface KvMirror {
  stop(): void;
  readonly done: Promise<void>;
}

/**
 * Hands every current entry of `kv` (or of the keys `key` matches), then every change, to
 * `apply` (deletes included: check `operation`). Resolves once the current entries are applied,
 * or after `readyMs` at most, so a slow bucket delays a start-up by a bounded time (with a
 * `key` filter that matches nothing yet, it always waits `readyMs`: pass 0 if nothing needs the
 * copy complete at once). A failure of the watch (or of `apply`) ends the copy, which then stays
 * as it was: `onFailure` is told, so the owner can log it.
 */
export async function mirrorKv(kv: KV, apply: (e: KvEntry) => void, onFailure: (err: Error) => void, opts: { key?: string; readyMs?: number } = {}): Promise<KvMirror> {
  const readyMs = opts.readyMs ?? 5000;
  const iter = await kv.watch({ key: opts.key ?? '>' });
  let loaded!: () => void;
  const ready = new Promise<void>((r) => (loaded = r));
  const done = (async () => {
    for await (const e of iter) {
      apply(e);
      if (e.delta === 0) loaded();
    }
  })();
  done.catch((err: unknown) => onFailure(err instanceof Error ? err : new Error(String(err))));
  if ((await kv.status()).values === 0) loaded();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ready, new Promise((r) => (timer = setTimeout(r, readyMs)))]);
  clearTimeout(timer);
  return { stop: () => iter.stop(), done };
}
