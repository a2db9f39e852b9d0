import { describe, expect, it } from 'vitest';
import { KeyedQueue } from './work-queue.ts';

describe('KeyedQueue', () => {
  it('works each waiting key once, in order, only once ready; retries a failing key after a backoff while the others go on', async () => {
    const done: string[] = [];
    let ready = false;
    let failures = 0;
    const q = new KeyedQueue(
      async (key) => {
        if (key === 'flaky' && failures++ < 2) throw new Error('not yet');
        done.push(key);
      },
      { retryMs: 20, ready: () => ready },
    );
    q.add('a');
    q.add('flaky');
    q.add('b');
    q.add('a');
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toEqual([]);
    ready = true;
    q.kick();
    await q.idle();
    expect(done).toEqual(['a', 'b']);
    expect(q.retrying).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    await q.idle();
    expect(done).toEqual(['a', 'b', 'flaky']);
    expect(failures).toBe(3);
    await q.stop();
    q.add('after-stop');
    await q.idle();
    expect(done).not.toContain('after-stop');
  });
});
