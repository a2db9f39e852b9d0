import { versionOf } from '../../libs/xds/snapshot.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import type { XdsResource } from '../../libs/xds/resource.ts';
import { encodeDeltaResponse, type DeltaDiscoveryRequest } from '../../libs/xds/ads-codec.ts';
import { Held } from './held.ts';
import { AdsStream, WILDCARD_TYPES } from './stream.ts';
import { WARMED_BY } from './warming.ts';

interface TypeState {
  wildcard: boolean;
  readonly names: Set<string>;
  /** What the proxy has acknowledged holding: name -> version (content hash). */
  readonly acked: Held;
  /** Sent, not yet answered: nonce -> changes (version, or null for a removal). Absent when empty (memory per stream). */
  inflight?: Map<string, Map<string, string | null>>;
  /** Versions the proxy rejected: not sent again until the content changes. Absent until a NACK. */
  nacked?: Map<string, string>;
  /** EDS: load assignments of updated clusters, sent again by the next push changed or not (see WARMED_BY). */
  rewarm?: Set<string>;
}

/**
 * Incremental (delta) ADS: only resources whose version differs from what the proxy holds are
 * sent, and removals are named. A NACK leaves the proxy on what it held before. A response that
 * updates clusters is followed by their ClusterLoadAssignments, changed or not (see WARMED_BY).
 */
export class DeltaStream extends AdsStream<DeltaDiscoveryRequest> {
  private readonly types = new Map<string, TypeState>();

  protected onRequest(req: DeltaDiscoveryRequest): void {
    let state = this.types.get(req.typeUrl);
    if (!state) {
      state = {
        wildcard: req.subscribe.includes('*') || (req.subscribe.length === 0 && WILDCARD_TYPES.has(req.typeUrl)),
        names: new Set(),
        acked: new Held(req.initialVersions),
      };
      this.types.set(req.typeUrl, state);
    }
    if (req.responseNonce !== '') {
      const changes = state.inflight?.get(req.responseNonce);
      state.inflight?.delete(req.responseNonce);
      if (state.inflight?.size === 0) delete state.inflight;
      if (changes && req.errorDetail) {
        for (const [name, v] of changes) if (v !== null) (state.nacked ??= new Map()).set(name, v);
        this.nack(req.typeUrl, [...changes.values()].filter(Boolean).join(','), req.errorDetail.message);
      } else if (changes) {
        for (const [name, v] of changes) state.acked.set(name, v);
        // Usually the proxy now holds exactly the snapshot's map: keep a reference, not a copy.
        if (!state.inflight) state.acked.rebase(this.snapshot?.resources.get(req.typeUrl as TypeUrl));
        this.ack(req.typeUrl, req.responseNonce);
      }
    }
    for (const n of req.subscribe) {
      if (n === '*') state.wildcard = true;
      // The resource's own name string when there is one: the decoded one is a copy per stream.
      else state.names.add(this.snapshot?.resources.get(req.typeUrl as TypeUrl)?.get(n)?.name ?? n);
    }
    for (const n of req.unsubscribe) {
      if (n === '*') state.wildcard = false;
      else {
        state.names.delete(n);
        state.acked.set(n, null);
      }
    }
    if (req.typeUrl === TypeUrl.Listener && (req.subscribe.length > 0 || req.unsubscribe.length > 0)) this.listenersRequested(state.names);
    // A plain ACK only moves versions from in flight to acknowledged: nothing new to send.
    const plainAck = req.responseNonce !== '' && !req.errorDetail && req.subscribe.length === 0 && req.unsubscribe.length === 0;
    if (!plainAck) this.pushType(req.typeUrl);
  }

  /** The version the proxy will hold of `name` once in-flight responses are applied (null: removed). */
  private expected(state: TypeState, name: string): string | null | undefined {
    let v: string | null | undefined = state.acked.get(name);
    if (state.inflight) {
      for (const changes of state.inflight.values()) {
        const c = changes.get(name);
        if (c !== undefined) v = c;
      }
    }
    return v;
  }

  /** Whether the proxy holds (or will) `n`, is subscribed to it, and the snapshot no longer has it. */
  private gone(state: TypeState, main: ReadonlyMap<string, XdsResource> | undefined, named: ReadonlyMap<string, XdsResource> | undefined, n: string): boolean {
    const desired = (state.wildcard && main?.has(n) === true) || (state.names.has(n) && (main?.has(n) === true || named?.has(n) === true));
    return !desired && (state.wildcard || state.names.has(n)) && !!this.expected(state, n);
  }

  protected pushType(typeUrl: string): void {
    const state = this.types.get(typeUrl);
    if (!state || !this.snapshot || this.holding) return;
    const main = this.snapshot.resources.get(typeUrl as TypeUrl);
    const named = this.snapshot.namedOnly.get(typeUrl as TypeUrl);
    // What the proxy should hold: the wildcard resources, and the named ones that exist (each once).
    const desired = state.wildcard && main ? [...main.values()] : [];
    for (const n of state.names) {
      if (state.wildcard && main?.has(n)) continue;
      const r = main?.get(n) ?? named?.get(n);
      if (r) desired.push(r);
    }
    const changed: XdsResource[] = [];
    /** Resources the proxy holds (or will) at another content: updates, not additions. */
    const updated: string[] = [];
    const rewarm = state.rewarm;
    delete state.rewarm;
    for (const r of desired) {
      if (state.nacked?.get(r.name) === r.hash) continue;
      const before = this.expected(state, r.name);
      if (before === r.hash && !rewarm?.has(r.name)) continue;
      changed.push(r);
      if (before) updated.push(r.name);
    }
    // Removed: held (or on its way) and subscribed, but no longer desired.
    let removed: Set<string> | undefined;
    state.acked.forEach((n) => {
      if (this.gone(state, main, named, n)) (removed ??= new Set()).add(n);
    });
    if (state.inflight) for (const changes of state.inflight.values()) for (const n of changes.keys()) if (this.gone(state, main, named, n)) (removed ??= new Set()).add(n);
    if (changed.length === 0 && !removed) return;
    const nonce = this.nextNonce();
    const changes = new Map<string, string | null>();
    for (const r of changed) changes.set(r.name, r.hash);
    for (const n of removed ?? []) changes.set(n, null);
    const inflight = (state.inflight ??= new Map());
    inflight.set(nonce, changes);
    if (inflight.size > 64) inflight.delete(inflight.keys().next().value!);
    this.send(typeUrl, encodeDeltaResponse(typeUrl, versionOf(desired), nonce, changed, removed ? [...removed] : []));
    // Updated clusters warm until their load assignments arrive: those go out next, changed or not.
    const warmed = WARMED_BY.get(typeUrl);
    const dependent = warmed && updated.length > 0 ? this.types.get(warmed) : undefined;
    if (dependent && warmed) {
      for (const n of updated) if (dependent.wildcard || dependent.names.has(n)) (dependent.rewarm ??= new Set()).add(n);
      if (dependent.rewarm) this.pushType(warmed);
    }
  }
}
