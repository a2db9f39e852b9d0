import { request } from 'node:https';
import { KUMA_VERSION } from '../../libs/platform/version.ts';

/** Who kuma-dp speaks for, and where: what every request to the data plane server carries. */
export interface DpIdentity {
  readonly cpAddress: string;
  readonly caCert?: string;
  readonly mesh: string;
  readonly name: string;
  readonly token?: string;
  /** The Dataplane to register, as JSON. */
  readonly dataplaneResource?: string;
}

/** The identity fields of a data plane server request body (Kuma's bootstrap request names). */
export function identityFields(id: DpIdentity): Record<string, string> {
  return { mesh: id.mesh, name: id.name, ...(id.token ? { dataplaneToken: id.token } : {}), ...(id.dataplaneResource ? { dataplaneResource: id.dataplaneResource } : {}) };
}

export interface BootstrapRequest extends DpIdentity {
  readonly adminPort: number;
  readonly envoyVersion?: string;
}

export class BootstrapError extends Error {
  override readonly name = 'BootstrapError';
}

/** `POST /bootstrap` on the data plane server over TLS, verified against `caCert` (or the system CAs). */
export async function fetchBootstrap(req: BootstrapRequest): Promise<{ bootstrap: Record<string, unknown> }> {
  const url = new URL('/bootstrap', req.cpAddress);
  if (url.protocol !== 'https:') throw new BootstrapError(`--cp-address must be https:// (the data plane server only speaks TLS), got ${req.cpAddress}`);
  const body = JSON.stringify({
    ...identityFields(req),
    proxyType: 'dataplane',
    ...(req.caCert ? { caCert: req.caCert } : {}),
    adminPort: req.adminPort,
    version: { kumaDp: { version: KUMA_VERSION }, envoy: { version: req.envoyVersion ?? '' } },
  });
  const res = await postJson(url, body, req.caCert, req.cpAddress);
  const parsed = res.body as { bootstrap?: Record<string, unknown>; detail?: string };
  if (res.status !== 200 || !parsed.bootstrap) throw new BootstrapError(`control plane refused the bootstrap request (${res.status}): ${parsed.detail ?? res.text}`);
  return { bootstrap: parsed.bootstrap };
}

/** A JSON POST to the data plane server over TLS (verified against `caCert`, or the system CAs). Rejects with BootstrapError when unreachable. */
export function postJson(url: URL, body: string, caCert: string | undefined, cpAddress: string): Promise<{ status: number; body: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const r = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, ...(caCert ? { ca: caCert } : {}), timeout: 15_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: unknown = {};
          try {
            parsed = JSON.parse(text);
          } catch {
            // the caller reports `text`
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
      },
    );
    r.on('timeout', () => r.destroy(new Error('timed out after 15 s')));
    r.on('error', (err) => reject(new BootstrapError(`could not reach the control plane at ${cpAddress}: ${err.message}`)));
    r.end(body);
  });
}
