import { KUMA_VERSION } from '../../libs/platform/version.ts';

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

/** The error of a non-2xx answer, from its (Kuma-shaped, if JSON) body. */
function errorOf(res: Response, text: string): ApiResponseError {
  let e: { title?: string; detail?: string; invalid_parameters?: { field: string; reason: string }[] } = {};
  try {
    const parsed: unknown = text === '' ? {} : JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') e = parsed as typeof e;
  } catch {
    // not JSON: the body is the detail
  }
  return new ApiResponseError(res.status, e.title ?? `HTTP ${res.status}`, e.detail ?? text, e.invalid_parameters ?? []);
}

/** A small client of the control plane's REST API (Node's fetch). */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    /** A user token, sent as `Authorization: Bearer` (kumactl config control-planes add --auth-type=tokens). */
    private readonly token?: string,
  ) {}

  private async send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
    try {
      return await fetch(this.baseUrl + path, {
        method,
        headers: {
          'user-agent': `kumactl/${KUMA_VERSION}`,
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new Error(`could not connect to the Control Plane API Server at ${this.baseUrl}: ${cause}`);
    }
  }

  /** A request whose 2xx answer is plain text (a token). */
  async text(method: string, path: string, body?: unknown): Promise<string> {
    const res = await this.send(method, path, body, {});
    const text = await res.text();
    if (!res.ok) throw errorOf(res, text);
    return text;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body, {});
    const text = await res.text();
    if (!res.ok) throw errorOf(res, text);
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new Error(`the control plane answered ${method} ${path} with invalid JSON`);
    }
    return parsed as T;
  }

  /**
   * A request whose answer is read as it arrives: the Response of a 2xx, its body unread
   * (see `lines`). A non-2xx is read whole and thrown as an ApiResponseError, as `request` does.
   */
  async stream(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    const res = await this.send(method, path, opts.body, opts.headers ?? {});
    if (!res.ok) throw errorOf(res, await res.text());
    return res;
  }
}

/** The lines of a streamed answer (JSON Lines), one at a time, without holding the whole body; blank lines skipped. */
export async function* lines(res: Response): AsyncGenerator<string> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pending += decoder.decode(value as Uint8Array, { stream: true });
      const parts = pending.split('\n');
      pending = parts.pop()!;
      for (const line of parts) if (line.trim() !== '') yield line.replace(/\r$/, '');
    }
    pending += decoder.decode();
    if (pending.trim() !== '') yield pending;
  } finally {
    // Stops the download when the caller stops early (an error, a closed pipe).
    await reader.cancel().catch(() => undefined);
  }
}
