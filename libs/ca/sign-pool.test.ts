import { X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createBuiltinCa, createWorkloadCsr, CsrError } from './builtin-ca.ts';
import { SignPool } from './sign-pool.ts';
import { MAX_CAS_PER_WORKER } from './sign-worker.ts';

const pool = new SignPool(1);
afterAll(() => pool.close());

describe('SignPool', () => {
  it('signs on a worker, and refuses a CSR beyond its SANs with a CsrError', async () => {
    const ca = await createBuiltinCa('m');
    const { csrPem } = await createWorkloadCsr(['spiffe://m/a']);
    const { certPem } = await pool.sign(ca, csrPem, ['spiffe://m/a'], { validityMs: 60_000, now: new Date() });
    expect(new X509Certificate(certPem).verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    await expect(pool.sign(ca, csrPem, [], { validityMs: 60_000, now: new Date() })).rejects.toThrow(CsrError);
  });

  it('still signs with a CA the worker forgot after more than its bound of CAs (the material is sent again)', async () => {
    const cas = await Promise.all(Array.from({ length: MAX_CAS_PER_WORKER + 2 }, (_, i) => createBuiltinCa(`mesh-${i}`)));
    const { csrPem } = await createWorkloadCsr([]);
    for (const ca of cas) await pool.sign(ca, csrPem, [], { validityMs: 60_000, now: new Date() });
    const { certPem } = await pool.sign(cas[0]!, csrPem, [], { validityMs: 60_000, now: new Date() });
    expect(new X509Certificate(certPem).verify(new X509Certificate(cas[0]!.certPem).publicKey)).toBe(true);
  });
});
