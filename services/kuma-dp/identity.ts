import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createWorkloadCsr, workloadSans, type KeyAlgorithm } from '../../libs/ca/builtin-ca.ts';
import { identityTags } from '../../libs/ca/issuer.ts';
import { BootstrapError, identityFields, postJson, type DpIdentity } from './bootstrap-client.ts';

/** How often grpc's file_watcher re-reads the files (the `refresh_interval` kuma-dp writes into the gRPC bootstrap). */
export const FILE_WATCHER_REFRESH_MS = 5_000;


/** Who asks (its Dataplane, JSON, names the SANs it asks for), and: */
export interface IdentityOptions extends DpIdentity {
  /** Where the key, certificate and CA bundle are written (the key readable by this user only); without it they stay in memory (Envoy gets them over SDS). */
  readonly dir?: string;
  readonly keyAlgorithm?: KeyAlgorithm;
  /** While the mesh has no mTLS (or its CA is not ready), how often to ask again. */
  readonly retryMs?: number;
  /**
   * How often to ask what the mesh trusts (jittered by a fifth): a new CA is trusted within this,
   * and a change of the signing backend renews the certificate soon after (see refreshTrust). 0 = never.
   */
  readonly trustRefreshMs?: number;
  readonly logger: Logger;
}

/** The current workload identity, PEM. */
export interface IdentityMaterial {
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPem: string;
  /** With a MeshIdentity: the SDS names the control plane's configuration asks for (its KRI, `system_trust_bundle`). */
  readonly sdsNames?: { readonly identity: string; readonly trust: string };
}

export interface IdentityFiles {
  readonly certificateFile: string;
  readonly privateKeyFile: string;
  readonly caCertificateFile: string;
}

/**
 * The workload identity of a proxyless application: kuma-dp makes the key on this host, has the
 * control plane sign a CSR for it (`POST /certificates`, with the dataplane token), and keeps the
 * files that grpc's `file_watcher` certificate provider reads current, renewing at the time the
 * control plane names (about 4/5 of the lifetime, jittered). The key is never sent anywhere.
 */
export class WorkloadIdentity {
  readonly files: IdentityFiles | undefined;
  private timer: NodeJS.Timeout | undefined;
  private trustTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private material: IdentityMaterial | undefined;
  private backend: string | undefined;
  /** A renewal from a new backend is scheduled (see refreshTrust). */
  private switching = false;
  private readonly listeners = new Set<(m: IdentityMaterial) => void>();

  constructor(private readonly opts: IdentityOptions) {
    if (opts.dir) {
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
      this.files = { certificateFile: join(opts.dir, 'cert.pem'), privateKeyFile: join(opts.dir, 'key.pem'), caCertificateFile: join(opts.dir, 'ca.pem') };
    }
  }

  /** The identity now, if one was issued. */
  get current(): IdentityMaterial | undefined {
    return this.material;
  }

  /** Called with each new identity (renewals); returns the unsubscribe. */
  onChange(fn: (m: IdentityMaterial) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The first request: resolves true once a certificate is written, false when there is none yet (renewals and retries continue). */
  start(): Promise<boolean> {
    return this.renew();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.trustTimer);
  }

  private scheduleTrust(): void {
    const every = this.opts.trustRefreshMs ?? 30_000;
    if (this.stopped || every <= 0) return;
    clearTimeout(this.trustTimer);
    this.trustTimer = setTimeout(() => void this.refreshTrust(), every * (0.8 + 0.4 * Math.random()));
    this.trustTimer.unref();
  }

  /** Picks up a new CA bundle (rotation); when another backend signs now, renews from it once every proxy has had time to trust it. */
  private async refreshTrust(): Promise<void> {
    try {
      const res = await postJson(new URL('/certificates/trust', this.opts.cpAddress), JSON.stringify(identityFields(this.opts)), this.opts.caCert, this.opts.cpAddress);
      const answer = res.body as { caBundle?: string; backend?: string };
      if (res.status === 200 && answer.caBundle && this.material) {
        if (answer.backend !== this.backend && !this.switching) {
          // Trust first, sign later: every other proxy must trust the new CA before this one
          // presents a certificate from it. They all pick the bundle up within 1.2 refresh
          // intervals, and grpc's file_watcher within its own; the renewals spread over one more.
          const every = this.opts.trustRefreshMs ?? 30_000;
          const wait = 1.2 * every + 2 * FILE_WATCHER_REFRESH_MS + Math.random() * every;
          this.switching = true;
          this.opts.logger.info({ component: 'kuma-dp', from: this.backend, to: answer.backend, inSeconds: Math.round(wait / 1000) }, 'the mesh signs with another CA backend now: trusting it, and renewing the workload certificate from it soon');
          clearTimeout(this.timer);
          this.timer = setTimeout(() => void this.renew(), wait);
          this.timer.unref();
        }
        if (answer.caBundle !== this.material.caPem) {
          this.material = { ...this.material, caPem: answer.caBundle };
          if (this.files) this.write(this.files, this.material);
          for (const fn of this.listeners) fn(this.material);
          this.opts.logger.info({ component: 'kuma-dp' }, "the mesh's CA bundle changed: trusting the new one");
        }
      }
    } catch (err) {
      this.opts.logger.debug({ component: 'kuma-dp', err: (err as Error).message }, 'could not refresh the CA bundle');
    }
    this.scheduleTrust();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.renew(), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    this.timer.unref();
  }

  private async renew(): Promise<boolean> {
    const log = this.opts.logger;
    const retry = this.opts.retryMs ?? 10_000;
    try {
      const dataplane = this.opts.dataplaneResource ? (JSON.parse(this.opts.dataplaneResource) as Record<string, unknown>) : undefined;
      const sans = dataplane ? workloadSans(this.opts.mesh, identityTags(dataplane)) : [];
      const { csrPem, keyPem } = await createWorkloadCsr(sans, this.opts.keyAlgorithm);
      const url = new URL('/certificates', this.opts.cpAddress);
      const body = JSON.stringify({ ...identityFields(this.opts), csr: csrPem });
      const res = await postJson(url, body, this.opts.caCert, this.opts.cpAddress);
      const answer = res.body as { certificate?: string; caBundle?: string; renewAfter?: string; notAfter?: string; backend?: string; secrets?: { identity?: string; trust?: string }; detail?: string };
      if (res.status === 409) {
        log.debug({ component: 'kuma-dp', reason: answer.detail }, 'no workload certificate yet');
        this.schedule(retry);
        return false;
      }
      if (res.status !== 200 || !answer.certificate || !answer.caBundle || !answer.renewAfter) {
        log.error({ component: 'kuma-dp', status: res.status, reason: answer.detail ?? res.text.slice(0, 500) }, 'the control plane refused the workload certificate request');
        this.schedule(retry * 6);
        return false;
      }
      const names = answer.secrets;
      this.material = { keyPem, certPem: answer.certificate, caPem: answer.caBundle, ...(names?.identity && names.trust ? { sdsNames: { identity: names.identity, trust: names.trust } } : {}) };
      this.backend = answer.backend;
      this.switching = false;
      this.scheduleTrust();
      if (this.files) this.write(this.files, this.material);
      for (const fn of this.listeners) fn(this.material);
      log.info({ component: 'kuma-dp', notAfter: answer.notAfter, renewAfter: answer.renewAfter, ...(this.opts.dir ? { dir: this.opts.dir } : {}) }, 'workload certificate issued');
      this.schedule(new Date(answer.renewAfter).getTime() - Date.now());
      return true;
    } catch (err) {
      log.warn({ component: 'kuma-dp', err: err instanceof BootstrapError ? err.message : err }, 'workload certificate request failed; retrying');
      this.schedule(retry);
      return false;
    }
  }

  /** Each file replaced whole (write, then rename), the key first and readable by this user only. */
  private write(files: IdentityFiles, { keyPem, certPem, caPem }: IdentityMaterial): void {
    const put = (file: string, data: string, mode: number) => {
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, data, { mode });
      chmodSync(tmp, mode);
      renameSync(tmp, file);
    };
    put(files.privateKeyFile, keyPem, 0o600);
    put(files.certificateFile, certPem, 0o644);
    put(files.caCertificateFile, caPem, 0o644);
  }
}
