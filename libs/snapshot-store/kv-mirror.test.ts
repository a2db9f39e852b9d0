import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useFabrics } from '../testkit/fabrics.ts';
import { Waiters } from '../testkit/waiters.ts';
import { mirrorKv } from './kv-mirror.ts';

/** The one mirror loop the status board, the registration board and the demand board share, on both fabrics. */
describe.each(useFabrics())('mirrorKv on the $name fabric', (fx) => {
  it('copies the current entries and every change, deletes included', async () => {
    const kv = await fx.fabric.bucket(`MIRROR_${randomUUID().slice(0, 8)}`);
    await kv.put('a', '1');
    const copy = new Map<string, string>();
    const waiters = new Waiters(() => undefined);
    const m = await mirrorKv(
      kv,
      (e) => {
        if (e.operation === 'PUT') copy.set(e.key, Buffer.from(e.value).toString());
        else copy.delete(e.key);
        waiters.notify();
      },
      (err) => expect.fail(err.message),
    );
    expect([...copy]).toEqual([['a', '1']]);
    await kv.put('b', '2');
    await kv.delete('a');
    await waiters.waitFor(() => copy.size === 1 && copy.get('b') === '2', 5000);
    m.stop();
    await m.done;
  });

  it('tells its owner when the copy stops on a failure, and stops applying', async () => {
    const kv = await fx.fabric.bucket(`MIRROR_${randomUUID().slice(0, 8)}`);
    await kv.put('a', '1');
    const failures: string[] = [];
    const applied: string[] = [];
    const m = await mirrorKv(
      kv,
      (e) => {
        applied.push(e.key);
        if (e.key === 'bad') throw new Error('cannot apply bad');
      },
      (err) => failures.push(err.message),
    );
    await kv.put('bad', 'x');
    await expect(m.done).rejects.toThrow('cannot apply bad');
    expect(failures).toEqual(['cannot apply bad']);
    await kv.put('later', 'y');
    await kv.get('later');
    await new Promise((r) => setTimeout(r, 20));
    expect(applied).toEqual(['a', 'bad']);
    m.stop();
  });

  it('tells its owner when an entry of the initial load cannot be applied, and stops there', async () => {
    const kv = await fx.fabric.bucket(`MIRROR_${randomUUID().slice(0, 8)}`);
    await kv.put('bad', 'x');
    const failures: string[] = [];
    const applied: string[] = [];
    const m = await mirrorKv(
      kv,
      (e) => {
        applied.push(e.key);
        if (e.key === 'bad') throw new Error('cannot apply bad');
      },
      (err) => failures.push(err.message),
      { readyMs: 500 },
    );
    await expect(m.done).rejects.toThrow('cannot apply bad');
    expect(failures).toEqual(['cannot apply bad']);
    await kv.put('later', 'y');
    await new Promise((r) => setTimeout(r, 50));
    expect(applied).toEqual(['bad']);
    m.stop();
  });
});
