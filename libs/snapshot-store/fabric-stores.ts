import type { Logger } from 'pino';
import type { Fabric } from '../fabric/port.ts';
import { decodeToObject } from '../xds/resource.ts';
import { ContentStore } from './content-store.ts';
import { ManifestStore, slotOfRef } from './manifest.ts';
import { Membership } from './membership.ts';
import { RegistrationBoard } from './registrations.ts';
import { StatusBoard } from './status-board.ts';

export interface FabricStoresOptions {
  /**
   * Names the cluster's buckets (`<namespace>_XDS_<what>`) and subjects
   * (`kuma.cluster.<namespace>.<role>s`): one per control plane cluster (store.nats.stream).
   */
  readonly namespace: string;
  readonly replicas?: number;
  /** A writer renews content it refers to after this long (a quarter of the collector's grace period, see ContentGc). */
  readonly contentRewriteAfterMs: number;
  readonly statusFlushMs: number;
  /** Status yields to configuration: a slice of status writes waits while this holds. */
  readonly deferStatusWhile: () => boolean;
}

/**
 * What the scale-out roles share through a fabric: content, manifests with their shared pointers
 * and by-name demands, and proxy status, opened once per process and handed to each role.
 */
export class FabricStores {
  private constructor(
    readonly fabric: Fabric,
    readonly opts: FabricStoresOptions,
    readonly content: ContentStore,
    readonly manifests: ManifestStore,
    readonly status: StatusBoard,
  ) {}

  static async open(fabric: Fabric, opts: FabricStoresOptions, logger: Logger): Promise<FabricStores> {
    const bucket = (what: string) => `${opts.namespace}_XDS_${what}`;
    const replicas = opts.replicas ?? 1;
    const content = await ContentStore.open(fabric, bucket('CONTENT'), { replicas, rewriteAfterMs: opts.contentRewriteAfterMs });
    const manifests = await ManifestStore.open(fabric, bucket('MANIFESTS'), content, { replicas });
    const status = await StatusBoard.open(fabric, bucket('STATUS'), logger, { replicas, flushMs: opts.statusFlushMs, deferWhile: opts.deferStatusWhile });
    return new FabricStores(fabric, opts, content, manifests, status);
  }

  /** The live members of a role, by heartbeats on the fabric (see Membership). */
  membership(role: 'projector' | 'gateway', memberId: string, logger: Logger): Membership {
    return new Membership(this.fabric, memberId, { subject: `kuma.cluster.${this.opts.namespace}.${role}s`, role }, logger);
  }

  /** Which gateway registered each Dataplane (see RegistrationBoard). */
  registrations(logger: Logger): Promise<RegistrationBoard> {
    return RegistrationBoard.open(this.fabric, `${this.opts.namespace}_XDS_REGISTRATIONS`, logger, { replicas: this.opts.replicas ?? 1 });
  }

  /** A proxy's configuration as its projector last published it (`_config`): type URL -> name -> resource as JSON. */
  async configOf(mesh: string, name: string): Promise<Record<string, Record<string, unknown>> | undefined> {
    const stored = await this.manifests.read(`${mesh}.${name}`);
    if (!stored || stored.manifest.deleted) return undefined;
    const out: Record<string, Record<string, unknown>> = {};
    for (const refs of [stored.manifest.resources, stored.manifest.namedOnly]) {
      for (const [typeUrl, byName] of Object.entries(refs)) {
        const into = (out[typeUrl] ??= {});
        for (const [resource, ref] of Object.entries(byName)) {
          const slot = slotOfRef(resource, ref);
          const hash = slot !== undefined ? (await this.manifests.readPointer(mesh, slot))?.hash : ref;
          if (hash) into[resource] = decodeToObject(typeUrl, await this.content.get(hash));
        }
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.status.close();
  }
}
