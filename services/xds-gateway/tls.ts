import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { generate } from 'selfsigned';
import type { Logger } from 'pino';
import type { KumaCpConfig } from '../../libs/platform/config.ts';
import type { TlsMaterial } from './dp-server.ts';

/** On Kubernetes, the names kuma-dp reaches the control plane by: its Service in the system namespace. */
export function serviceNames(config: KumaCpConfig): string[] {
  if (config.store.type !== 'kubernetes') return [];
  const svc = config.runtime.kubernetes.controlPlaneServiceName;
  const ns = config.store.kubernetes.systemNamespace;
  return [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`];
}

/**
 * The data plane server's certificate: the configured files, or (as Kuma does) a self-signed
 * certificate generated at first start and kept in the work directory, so kuma-dp can pin it
 * with `--ca-cert-file`.
 */
export async function loadOrCreateTls(opts: { certFile: string; keyFile: string; workDir: string; logger: Logger; config?: KumaCpConfig }): Promise<TlsMaterial & { certFile: string }> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new Error('general.tlsCertFile and general.tlsKeyFile must be set together');
    return { cert: readFileSync(opts.certFile, 'utf8'), key: readFileSync(opts.keyFile, 'utf8'), certFile: opts.certFile };
  }
  const certFile = join(opts.workDir, 'dp-server.crt');
  const keyFile = join(opts.workDir, 'dp-server.key');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const pems = await generate([{ name: 'commonName', value: 'kuma-control-plane' }], {
      keyType: 'ec',
      curve: 'P-256',
      notAfterDate: new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 2, value: hostname() },
            ...(opts.config ? serviceNames(opts.config) : []).map((value) => ({ type: 2 as const, value })),
            { type: 7, ip: '127.0.0.1' },
            { type: 7, ip: '::1' },
          ],
        },
      ],
    });
    mkdirSync(dirname(certFile), { recursive: true });
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    writeFileSync(certFile, pems.cert);
    opts.logger.info({ component: 'dp-server', certFile }, 'generated a self-signed certificate for the data plane server');
  }
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
}
