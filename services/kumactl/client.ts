import { KUMA_VERSION } from '../api-server/server.ts';

/** An error answer of the control plane, with Kuma's field-level reasons. */
export class ApiResponseError extends Error {
  override readonly name = 'ApiResponseError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly invalidParameters: { field: string; reason: string }[],
  ) {
    super(`${title} (${detail})`);
  }

  /** The message kumactl prints: the title and detail, then one line per invalid field. */
  describe(): string {
    return [this.message, ...this.invalidParameters.map((p) => `* ${p.field}: ${p.reason}`)].join('\n');
  }
}

/** A small client of the control plane's REST API (Node's fetch). */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers: { 'user-agent': `kumactl/${KUMA_VERSION}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new Error(`could not connect to the Control Plane API Server at ${this.baseUrl}: ${cause}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const e = (parsed ?? {}) as { title?: string; detail?: string; invalid_parameters?: { field: string; reason: string }[] };
      throw new ApiResponseError(res.status, e.title ?? `HTTP ${res.status}`, e.detail ?? text, e.invalid_parameters ?? []);
    }
    if (parsed === undefined) throw new Error(`the control plane answered ${method} ${path} with invalid JSON`);
    return parsed as T;
  }
}
