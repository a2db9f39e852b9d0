import type { LoadClient } from './lean-envoy.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';

/**
 * Makes `reps` changes of svc-0's endpoints and returns, sorted, the milliseconds from each
 * change until each proxy received a ClusterLoadAssignment update naming svc-0.
 */
export async function propagation(clients: LoadClient[], reps: number, change: (rep: number) => Promise<void>, timeoutMs = 60_000): Promise<number[]> {
  const all: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const marks = clients.map((c) => c.responses.length);
    const t0 = performance.now();
    await change(rep);
    const settled = await Promise.allSettled(
      clients.map(async (c, i) => {
        let seen: number | undefined;
        await c.waitFor(() => {
          const r = c.responses.slice(marks[i]).find((x) => x.typeUrl === TypeUrl.ClusterLoadAssignment && x.changed.includes('svc-0'));
          seen = r?.at;
          return r !== undefined;
        }, timeoutMs);
        return seen! - t0;
      }),
    );
    const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    if (failed.length > 0) {
      const first = clients[failed[0]!]!;
      throw new Error(`change ${rep}: ${failed.length} of ${clients.length} proxies did not receive it within ${timeoutMs} ms; first: ${first.describe?.() ?? `#${failed[0]}`}`);
    }
    const times = settled.map((r) => (r as PromiseFulfilledResult<number>).value);
    if (process.env['BENCH_VERBOSE']) {
      const sorted = [...times].sort((a, b) => a - b);
      process.stderr.write(`  change ${rep}: min ${Math.round(sorted[0]!)} p50 ${Math.round(sorted[sorted.length >> 1]!)} max ${Math.round(sorted[sorted.length - 1]!)} ms\n`);
    }
    all.push(...times);
    await new Promise((r) => setTimeout(r, 500));
  }
  return all.sort((a, b) => a - b);
}
