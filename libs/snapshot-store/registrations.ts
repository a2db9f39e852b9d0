import type { Fabric, FabricBucket } from '../fabric/port.ts';
import type { Logger } from 'pino';
import { mirrorKv, type KvMirror } from './kv-mirror.ts';

/** Who registered a proxy's Dataplane (kuma-dp `--dataplane-file`): the gateway's member id. */
export interface RegistrationRecord {
  readonly gateway: string;
  /** The record's KV revision: a removal is conditional on it, so a newer claim survives. */
  readonly revision: number;
}

/**
 * Registered Dataplanes and the gateway that registered each, in a fabric bucket every gateway
 * mirrors. A gateway claims a proxy when it registers its Dataplane (a reconnect to another
 * gateway claims it again) and releases it when it deregisters; when a gateway dies, its
 * claims stay behind, and the survivors use them to deregister what it can no longer.
 */
export class RegistrationBoard {
  private readonly mirror_ = new Map<string, RegistrationRecord>();
  private mirror: KvMirror | undefined;

  private constructor(
    private readonly kv: FabricBucket,
    private readonly logger: Logger,
  ) {}

  static async open(fabric: Fabric, bucket: string, logger: Logger, opts: { replicas?: number } = {}): Promise<RegistrationBoard> {
    const kv = await fabric.bucket(bucket, { replicas: opts.replicas ?? 1, description: 'kuma registered dataplanes by gateway' });
    return new RegistrationBoard(kv, logger);
  }

  /** Records that `gateway` registered `proxyKey` (after the Dataplane was written). */
  async claim(proxyKey: string, gateway: string): Promise<void> {
    await this.kv.put(proxyKey, JSON.stringify({ gateway }));
  }

  /** Drops the record if `gateway` still holds it (a reconnect elsewhere has claimed it since). */
  async release(proxyKey: string, gateway: string): Promise<void> {
    const e = await this.kv.get(proxyKey);
    if (!e || e.operation !== 'PUT' || parse(e.value)?.gateway !== gateway) return;
    await this.kv.delete(proxyKey, { previousRevision: e.revision }).catch(() => undefined);
  }

  /** The record as stored now (not the mirror): the check before a removal. */
  async read(proxyKey: string): Promise<RegistrationRecord | undefined> {
    const e = await this.kv.get(proxyKey);
    if (!e || e.operation !== 'PUT') return undefined;
    const v = parse(e.value);
    return v && { gateway: v.gateway, revision: e.revision };
  }

  /** Removes the record only at `revision`; false when it changed meanwhile. */
  async remove(proxyKey: string, revision: number): Promise<boolean> {
    try {
      await this.kv.delete(proxyKey, { previousRevision: revision });
      return true;
    } catch {
      return false;
    }
  }

  /** Keeps a local copy of every record. Resolves once the current ones are loaded (or after 5 s). */
  async startMirror(): Promise<void> {
    this.mirror = await mirrorKv(
      this.kv,
      (e) => {
        const v = e.operation === 'PUT' ? parse(e.value) : undefined;
        if (v) this.mirror_.set(e.key, { gateway: v.gateway, revision: e.revision });
        else this.mirror_.delete(e.key);
      },
      (err) => this.logger.warn({ component: 'dp-lifecycle', err: err.message }, 'stopped mirroring dataplane registrations'),
    );
  }

  /** Every record, as mirrored. */
  get records(): ReadonlyMap<string, RegistrationRecord> {
    return this.mirror_;
  }

  async close(): Promise<void> {
    this.mirror?.stop();
    await this.mirror?.done.catch(() => undefined);
  }
}

function parse(value: Uint8Array): { gateway: string } | undefined {
  try {
    const v = JSON.parse(Buffer.from(value).toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && typeof (v as { gateway?: unknown }).gateway === 'string' ? (v as { gateway: string }) : undefined;
  } catch {
    return undefined;
  }
}
