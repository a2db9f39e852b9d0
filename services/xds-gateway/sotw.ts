import { select, versionOf } from '../../libs/xds/snapshot.ts';
import type { TypeUrl } from '../../libs/xds/protos.ts';
import { encodeResponse, type DiscoveryRequest } from '../../libs/xds/ads-codec.ts';
import { AdsStream, WILDCARD_TYPES } from './stream.ts';

interface TypeState {
  names: Set<string> | 'wildcard';
  lastSentVersion?: string;
  lastNonce?: string;
  /** The version the proxy NACKed: not sent again until the content changes. */
  nackedVersion?: string;
}

/**
 * State-of-the-world ADS: each response carries every requested resource of a type.
 * Versions are content hashes, so an unchanged set is never re-sent, a NACKed set is not
 * re-sent in a loop, and another gateway computes the same versions.
 */
export class SotwStream extends AdsStream<DiscoveryRequest> {
  private readonly types = new Map<string, TypeState>();

  protected onRequest(req: DiscoveryRequest): void {
    let state = this.types.get(req.typeUrl);
    if (req.responseNonce !== '' && state && req.responseNonce !== state.lastNonce) return; // stale: a newer response is in flight
    if (req.errorDetail && state?.lastSentVersion) {
      state.nackedVersion = state.lastSentVersion;
      this.nack(req.typeUrl, state.lastSentVersion, req.errorDetail.message);
    } else if (req.responseNonce !== '' && state) {
      this.ack(req.typeUrl, req.versionInfo);
    }
    const names: TypeState['names'] =
      req.resourceNames.includes('*') || (req.resourceNames.length === 0 && WILDCARD_TYPES.has(req.typeUrl)) ? 'wildcard' : new Set(req.resourceNames);
    if (!state) this.types.set(req.typeUrl, (state = { names }));
    else state.names = names;
    this.pushType(req.typeUrl);
  }

  protected pushType(typeUrl: string): void {
    const state = this.types.get(typeUrl);
    if (!state || !this.snapshot) return;
    const resources = select(this.snapshot, typeUrl as TypeUrl, state.names);
    const version = versionOf(resources);
    if (version === state.lastSentVersion || version === state.nackedVersion) return;
    const nonce = this.nextNonce();
    state.lastSentVersion = version;
    state.lastNonce = nonce;
    this.send(typeUrl, encodeResponse(typeUrl, version, nonce, resources));
  }
}
