import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CsrError } from './builtin-ca.ts';
import { MAX_CAS_PER_WORKER, type SignRequest, type SignResponse } from './sign-worker.ts';

/**
 * Worker threads that sign workload certificates (`sign-worker.ts`), round robin. Each worker is
 * sent a CA's material once and keeps it parsed; requests carry only the CSR and the SANs.
 */
export class SignPool {
  private readonly workers: { worker: Worker; known: Set<string> }[] = [];
  private readonly pending = new Map<number, { resolve: (r: { certPem: string; notBefore: Date; notAfter: Date }) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private next = 0;
  /** Why the pool cannot sign (a worker failed): every request is refused with it. */
  private failed: Error | undefined;
  private closing = false;

  constructor(size = Math.max(1, availableParallelism() - 1)) {
    // The build runs the compiled worker; sources (tests, benchmarks) register tsx in the worker
    // first, since Node 20 does not carry the main thread's loader hooks into workers.
    const fromSources = import.meta.url.endsWith('.ts');
    const file = new URL(fromSources ? './sign-worker.ts' : './sign-worker.js', import.meta.url);
    for (let i = 0; i < size; i++) {
      const worker = fromSources
        ? new Worker(`(async () => { (await import('tsx/esm/api')).register(); await import(${JSON.stringify(file.href)}); })()`, { eval: true })
        : new Worker(file);
      worker.unref();
      worker.on('message', (m: SignResponse) => this.settle(m));
      const fail = (err: Error) => {
        this.failed ??= err;
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => this.closing || fail(new Error(`a certificate signing worker exited (${code})`)));
      this.workers.push({ worker, known: new Set() });
    }
  }

  private settle(m: SignResponse): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if ('certPem' in m) p.resolve({ certPem: m.certPem, notBefore: new Date(m.notBefore), notAfter: new Date(m.notAfter) });
    else if ('csrError' in m) p.reject(new CsrError(m.csrError.field, m.csrError.reason));
    else p.reject(new Error(m.error));
  }

  sign(material: { certPem: string; keyPem: string }, csrPem: string, sans: readonly string[], opts: { validityMs: number; now: Date; accept?: readonly string[] }): Promise<{ certPem: string; notBefore: Date; notAfter: Date }> {
    if (this.failed) return Promise.reject(this.failed);
    const caId = createHash('sha256').update(material.certPem).update(material.keyPem).digest('hex');
    const w = this.workers[this.next++ % this.workers.length]!;
    const id = ++this.nextId;
    const first = !w.known.has(caId);
    if (first) {
      // The worker forgets its oldest CA past the bound: so does this record of it.
      w.known.add(caId);
      if (w.known.size > MAX_CAS_PER_WORKER) w.known.delete(w.known.values().next().value!);
    }
    const req: SignRequest = { id, caId, ...(first ? { material } : {}), csrPem, sans, ...(opts.accept ? { accept: opts.accept } : {}), validityMs: opts.validityMs, now: opts.now.getTime() };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.worker.postMessage(req);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
