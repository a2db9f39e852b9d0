import { TypeUrl } from '../../libs/xds/protos.ts';
import type { XdsResource } from '../../libs/xds/resource.ts';
import { versionOf } from '../../libs/xds/snapshot.ts';
import { Held } from './held.ts';
import { updatedNames, WARMED_BY } from './warming.ts';

/** What a full-state response carried: the snapshot's map of the type (wildcard), or the resources. */
type SentSet = ReadonlyMap<string, XdsResource> | readonly XdsResource[];
const resourcesOf = (s: SentSet): Iterable<XdsResource> => (s instanceof Map ? s.values() : (s as readonly XdsResource[]));

/**
 * Types whose state-of-the-world responses must carry every requested resource: a Listener or
 * Cluster left out of a response is removed by the client. For the others (EDS, RDS) a response
 * need carry only the resources that changed: the client keeps the rest while its listeners
 * and clusters still name them (xDS protocol, "state of the world"; grpc-js-xds reads them so).
 */
export const FULL_STATE_TYPES: ReadonlySet<string> = new Set([TypeUrl.Listener, TypeUrl.Cluster]);

/** One response to send: its version (of the whole requested set) and the resources it carries. */
export interface SotwResponse {
  readonly version: string;
  readonly resources: readonly XdsResource[];
}

/**
 * What one SotW stream knows about one type: the names requested, the versions sent and
 * NACKed and, for EDS and RDS, the content the proxy holds, so that a response carries only
 * what changed. Pure: no I/O; the stream calls `plan` with the resources the request resolves
 * to, sends what it returns, then calls `sent`.
 *
 * Versions are those of the whole requested set (content hashes), as before: an unchanged set
 * is never answered twice, and a NACKed set is not sent again until the content changes.
 */
export class SotwTypeState {
  names: ReadonlySet<string> | 'wildcard' = new Set();
  lastSentVersion: string | undefined;
  lastNonce: string | undefined;
  /** The version the proxy NACKed: not sent again until the content changes. */
  nackedVersion: string | undefined;
  /** EDS/RDS: name -> hash the proxy holds (or is being sent). Absent for LDS/CDS. */
  private readonly held: Held | undefined;
  /** EDS/RDS: what the latest response carried (name -> hash), which a NACK takes back. */
  private lastChanges: Map<string, string> | undefined;
  /** EDS/RDS: hashes the proxy rejected, by name: not sent again until the content changes. */
  private nacked: Map<string, string> | undefined;
  /** EDS/RDS: some held resources must be sent again although unchanged (see `rewarm`). */
  private forced = false;
  /**
   * CDS: what the latest response carried, and what the latest acknowledged one did (to tell
   * updates, see `updated`). A wildcard response is the snapshot's own map, shared by every
   * stream, so Envoy's streams keep no copy.
   */
  private lastResources: SentSet | undefined;
  private ackedResources: SentSet | undefined;

  constructor(readonly typeUrl: string) {
    this.held = FULL_STATE_TYPES.has(typeUrl) ? undefined : new Held();
  }

  /** Whether responses of this type carry only what changed. */
  get incremental(): boolean {
    return this.held !== undefined;
  }

  /**
   * A request named these resources. Names no longer requested are forgotten (a later request
   * for them gets them again, changed or not); newly requested ones are sent by the next plan.
   */
  request(names: ReadonlySet<string> | 'wildcard'): void {
    if (this.held && names !== 'wildcard') {
      const gone: string[] = [];
      this.held.forEach((n) => {
        if (!names.has(n)) gone.push(n);
      });
      for (const n of gone) this.held.set(n, null);
      if (this.nacked) for (const n of [...this.nacked.keys()]) if (!names.has(n)) this.nacked.delete(n);
    }
    this.names = names;
  }

  /**
   * The response to send for `resources` (what the request resolves to now), or undefined when
   * there is nothing to send: the set is what was last sent or NACKed, or (EDS/RDS) nothing in it
   * differs from what the proxy holds (then the set's version becomes the one last sent). The
   * first response of a type is always sent, even empty.
   */
  plan(resources: readonly XdsResource[]): SotwResponse | undefined {
    const version = versionOf(resources);
    if (!this.forced && (version === this.lastSentVersion || version === this.nackedVersion)) return undefined;
    if (!this.held) return { version, resources };
    this.forced = false;
    const changed = resources.filter((r) => this.held!.get(r.name) !== r.hash && this.nacked?.get(r.name) !== r.hash);
    if (changed.length === 0 && this.lastSentVersion !== undefined) {
      // Only removals: the proxy already holds the whole set at this version, so it counts as sent
      // (a name asked for again later then differs from it and is sent).
      this.lastSentVersion = version;
      return undefined;
    }
    return { version, resources: changed };
  }

  /** `response` went out with `nonce`; `current` is the snapshot's map of the type (to hold by reference). */
  sent(response: SotwResponse, nonce: string, current?: ReadonlyMap<string, XdsResource>): void {
    this.lastSentVersion = response.version;
    this.lastNonce = nonce;
    if (!this.held) {
      if (WARMED_BY.has(this.typeUrl)) this.lastResources = this.names === 'wildcard' && current ? current : response.resources;
      return;
    }
    this.lastChanges = response.resources.length > 0 ? new Map(response.resources.map((r) => [r.name, r.hash])) : undefined;
    for (const r of response.resources) {
      this.held.set(r.name, r.hash);
      this.nacked?.delete(r.name);
    }
    this.held.rebase(current);
  }

  /**
   * The proxy rejected the latest response: it keeps what it held before, and that set is not
   * sent again. A NACK rejects a response as a whole, so only a response of one resource tells
   * which content was bad: that content is held back until it changes. The resources of a larger
   * response are simply no longer held, so the next change of the set sends them all again (the
   * good ones with it), while `nackedVersion` keeps the same set from being re-sent in a loop.
   */
  nack(): void {
    this.nackedVersion = this.lastSentVersion;
    if (!this.held || !this.lastChanges) return;
    const single = this.lastChanges.size === 1;
    for (const [name, hash] of this.lastChanges) {
      if (single) (this.nacked ??= new Map()).set(name, hash);
      this.held.set(name, null);
    }
    this.lastChanges = undefined;
  }

  /** The proxy accepted the latest response. */
  ack(): void {
    this.lastChanges = undefined;
    this.ackedResources = this.lastResources;
  }

  /**
   * CDS: the names a response about to go out updates (their content differs from the
   * latest response's or the latest acknowledged one's; new names are not updates). Call before `sent`.
   */
  updated(response: SotwResponse): string[] {
    if (this.held || this.lastResources === undefined) return [];
    const acked = this.ackedResources === this.lastResources ? undefined : this.ackedResources;
    return updatedNames(response.resources, resourcesOf(this.lastResources), acked && resourcesOf(acked));
  }

  /**
   * EDS: clusters of these names were updated (Envoy warms them again and waits for their load
   * assignments): the next plan sends those the proxy holds again, changed or not. Returns
   * whether there is any.
   */
  rewarm(names: Iterable<string>): boolean {
    if (!this.held) return false;
    for (const n of names) {
      if (this.held.get(n) === undefined) continue;
      this.held.set(n, null);
      this.forced = true;
    }
    return this.forced;
  }
}
