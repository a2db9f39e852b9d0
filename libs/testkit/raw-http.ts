import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface RawResult {
  readonly status: number;
  readonly text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * One HTTP(S) request with exactly the headers given (fetch refuses to set `Host`, and adds a
 * content type to string bodies): for tests of what a browser or an attacker sends.
 */
export function rawRequest(opts: {
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM to trust for https (the server's name is taken from the URL). */
  ca?: string;
}): Promise<RawResult> {
  const u = new URL(opts.url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method,
        headers: { ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
        ...(opts.ca ? { ca: opts.ca } : {}),
        timeout: 15_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}
