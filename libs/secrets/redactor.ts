import type { StoredEvent } from '../event-log/event.ts';
import type { Resource } from '../resources/resource.ts';
import type { JsonObject } from '../resources/validation.ts';

/**
 * How confidential resources look outside their own live read (audit feed, export, history,
 * diff, time travel): every spec field replaced by a keyed digest of its value, so a reader
 * can tell that and when a secret changed, never what it is. Pure; other types pass through.
 */
export class SecretRedactor {
  constructor(
    private readonly confidential: (type: string) => boolean,
    private readonly digest: (content: string) => string,
  ) {}

  spec(type: string, spec: Readonly<JsonObject>): Readonly<JsonObject> {
    if (!this.confidential(type)) return spec;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(spec)) out[k] = this.digest(typeof v === 'string' ? v : JSON.stringify(v));
    return out;
  }

  resource(r: Resource): Resource;
  resource(r: Resource | undefined): Resource | undefined;
  resource(r: Resource | undefined): Resource | undefined {
    if (!r || !this.confidential(r.meta.type)) return r;
    return { meta: r.meta, spec: this.spec(r.meta.type, r.spec) };
  }

  /**
   * A resource fingerprint (a plain sha256 over its JSON, as replay-verify lists differences)
   * of a confidential type, re-keyed: the same equality, and no offline guessing of the data.
   */
  fingerprint(type: string, print: string): string {
    return this.confidential(type) ? this.digest(`fingerprint\u0000${print}`) : print;
  }

  event(e: StoredEvent): StoredEvent {
    if (e.op !== 'upsert' || !this.confidential(e.type)) return e;
    return { ...e, resource: { ...e.resource, spec: this.spec(e.type, e.resource.spec) } };
  }
}
