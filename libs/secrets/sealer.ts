import type { NewEvent, StoredEvent } from '../event-log/event.ts';
import type { Resource } from '../resources/resource.ts';
import type { JsonObject } from '../resources/validation.ts';
import { EnvelopeError, isEnvelope, open, seal, type Envelope } from './envelope.ts';
import type { Keyring } from './keyring.ts';

/** The spec of a confidential resource as it is stored: its plaintext spec, sealed. */
export const SEALED = '$sealed';

/** A confidential resource that cannot be opened with this process's keyring. */
export class SecretDecryptionError extends Error {
  override readonly name = 'SecretDecryptionError';
}

interface Identity {
  readonly type: string;
  readonly mesh?: string;
  readonly name: string;
}

/** What an envelope is bound to: the resource's identity. */
export const identityAad = (id: Identity): string => `kuma-es resource v1\u0000${id.type}\u0000${id.mesh ?? ''}\u0000${id.name}`;

const describe = (id: Identity) => `${id.type} "${id.mesh !== undefined ? `${id.mesh}/` : ''}${id.name}"`;

/**
 * Seals and opens the specs of confidential types (Secret, GlobalSecret) wherever they are
 * stored: events on their way into and out of the log, and resources in checkpoints. The spec
 * as a whole becomes `{ "$sealed": <Envelope> }`, bound to the resource's identity. Specs of
 * other types pass through untouched (the same object). Specs stored before encryption existed
 * (no envelope) open as they are.
 */
export class SpecSealer {
  constructor(
    readonly keyring: Keyring,
    private readonly confidential: (type: string) => boolean,
  ) {}

  isConfidential(type: string): boolean {
    return this.confidential(type);
  }

  sealSpec(id: Identity, spec: Readonly<JsonObject>): Readonly<JsonObject> {
    if (!this.confidential(id.type) || isSealed(spec)) return spec;
    const envelope = seal(this.keyring.primary, Buffer.from(JSON.stringify(spec)), identityAad(id));
    return { [SEALED]: envelope as unknown as JsonObject };
  }

  openSpec(id: Identity, spec: Readonly<JsonObject>): Readonly<JsonObject> {
    if (!this.confidential(id.type) || !isSealed(spec)) return spec;
    const envelope = spec[SEALED] as unknown as Envelope;
    try {
      return JSON.parse(open(this.keyring, envelope, identityAad(id)).toString('utf8')) as JsonObject;
    } catch (err) {
      const why = err instanceof EnvelopeError ? err.message : `the plaintext is not JSON (${(err as Error).message})`;
      throw new SecretDecryptionError(`cannot decrypt ${describe(id)}: ${why}`, { cause: err });
    }
  }

  /** The key id a stored spec is sealed under (undefined: not sealed). */
  kidOf(spec: Readonly<JsonObject>): string | undefined {
    return isSealed(spec) ? (spec[SEALED] as unknown as Envelope).kid : undefined;
  }

  sealEvent<E extends NewEvent>(e: E): E {
    if (e.op !== 'upsert' || !this.confidential(e.type)) return e;
    return { ...e, resource: { ...e.resource, spec: this.sealSpec(e, e.resource.spec) } };
  }

  openEvent(e: StoredEvent): StoredEvent {
    if (e.op !== 'upsert' || !this.confidential(e.type) || !isSealed(e.resource.spec)) return e;
    return { ...e, resource: { ...e.resource, spec: this.openSpec(e, e.resource.spec) } };
  }

  sealResource(r: Resource): Resource {
    if (!this.confidential(r.meta.type)) return r;
    return { meta: r.meta, spec: this.sealSpec(r.meta, r.spec) };
  }

  openResource(r: Resource): Resource {
    if (!this.confidential(r.meta.type)) return r;
    return { meta: r.meta, spec: this.openSpec(r.meta, r.spec) };
  }
}

function isSealed(spec: Readonly<JsonObject>): boolean {
  return Object.keys(spec).length === 1 && isEnvelope(spec[SEALED]);
}
