/**
 * A worker thread that signs workload certificates (see SignPool): the ASN.1 work of
 * @peculiar/x509 off the main thread, so a second core signs while the first serves TLS and HTTP.
 */
import { parentPort } from 'node:worker_threads';
import { CsrError, LoadedCa } from './builtin-ca.ts';

export interface SignRequest {
  readonly id: number;
  /** Identifies the CA material (its certificate's PEM digest); the material is sent with the first request for it. */
  readonly caId: string;
  readonly material?: { readonly certPem: string; readonly keyPem: string };
  readonly csrPem: string;
  readonly sans: readonly string[];
  /** URIs the CSR may ask for (default: `sans`). */
  readonly accept?: readonly string[];
  readonly validityMs: number;
  readonly now: number;
}

export type SignResponse =
  | { readonly id: number; readonly certPem: string; readonly notBefore: number; readonly notAfter: number }
  | { readonly id: number; readonly csrError: { readonly field: string; readonly reason: string } }
  | { readonly id: number; readonly error: string };

/**
 * CAs a worker keeps parsed, oldest first. The pool mirrors this set per worker (same bound, same
 * order: it sends a CA's material exactly when it adds it), so it knows when to send it again.
 */
export const MAX_CAS_PER_WORKER = 16;

const cas = new Map<string, Promise<LoadedCa>>();

parentPort?.on('message', (req: SignRequest) => {
  void (async () => {
    try {
      let ca = cas.get(req.caId);
      if (!ca) {
        if (!req.material) throw new Error(`unknown CA ${req.caId} (the pool's record of this worker's CAs is out of step)`);
        cas.set(req.caId, (ca = LoadedCa.load(req.material)));
        if (cas.size > MAX_CAS_PER_WORKER) cas.delete(cas.keys().next().value!);
      }
      const signed = await (await ca).signWorkload(req.csrPem, req.sans, { validityMs: req.validityMs, now: new Date(req.now), ...(req.accept ? { accept: req.accept } : {}) });
      parentPort!.postMessage({ id: req.id, certPem: signed.certPem, notBefore: signed.notBefore.getTime(), notAfter: signed.notAfter.getTime() } satisfies SignResponse);
    } catch (err) {
      if (err instanceof CsrError) parentPort!.postMessage({ id: req.id, csrError: { field: err.field, reason: err.reason } } satisfies SignResponse);
      else parentPort!.postMessage({ id: req.id, error: (err as Error).message } satisfies SignResponse);
    }
  })();
});
