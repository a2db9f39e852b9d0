import { select } from '../../libs/xds/snapshot.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { encodeResponse, type DiscoveryRequest } from '../../libs/xds/ads-codec.ts';
import { SotwTypeState } from './sotw-state.ts';
import { AdsStream, WILDCARD_TYPES } from './stream.ts';
import { WARMED_BY } from './warming.ts';

const isWildcard = (names: readonly string[], typeUrl: string): boolean => names.includes('*') || (names.length === 0 && WILDCARD_TYPES.has(typeUrl));

/** Whether a request names exactly the resources already requested. */
function sameNames(current: ReadonlySet<string> | 'wildcard', names: readonly string[], typeUrl: string): boolean {
  if (current === 'wildcard') return isWildcard(names, typeUrl);
  if (names.length !== current.size || isWildcard(names, typeUrl)) return false;
  for (const n of names) if (!current.has(n)) return false;
  return true;
}

/**
 * State-of-the-world ADS. LDS and CDS responses carry every requested resource of the type;
 * EDS and RDS ones only the resources that changed since what the proxy holds (and those it
 * newly asks for), as the xDS protocol allows: an endpoint change re-sends one
 * ClusterLoadAssignment, not all of them. Versions are content hashes of the whole requested
 * set, so an unchanged set is never re-sent, a NACKed set is not re-sent in a loop, and another
 * gateway computes the same versions. A CDS response that updates clusters is followed by their
 * ClusterLoadAssignments, changed or not (see WARMED_BY).
 */
export class SotwStream extends AdsStream<DiscoveryRequest> {
  private readonly types = new Map<string, SotwTypeState>();

  protected onRequest(req: DiscoveryRequest): void {
    let state = this.types.get(req.typeUrl);
    if (req.responseNonce !== '' && state && req.responseNonce !== state.lastNonce) return; // stale: a newer response is in flight
    if (req.errorDetail && state?.lastSentVersion) {
      state.nack();
      this.nack(req.typeUrl, state.lastSentVersion, req.errorDetail.message);
    } else if (req.responseNonce !== '' && state) {
      state.ack();
      this.ack(req.typeUrl, req.versionInfo);
      // A plain ACK (the same names): what it acknowledges is the latest there is, nothing to send.
      if (sameNames(state.names, req.resourceNames, req.typeUrl)) return;
    }
    const names = isWildcard(req.resourceNames, req.typeUrl) ? 'wildcard' : new Set(req.resourceNames);
    if (!state) this.types.set(req.typeUrl, (state = new SotwTypeState(req.typeUrl)));
    state.request(names);
    if (req.typeUrl === TypeUrl.Listener) this.listenersRequested(names);
    this.pushType(req.typeUrl);
  }

  protected pushType(typeUrl: string): void {
    const state = this.types.get(typeUrl);
    if (!state || !this.snapshot || this.holding) return;
    const response = state.plan(select(this.snapshot, typeUrl as TypeUrl, state.names));
    if (!response) return;
    const nonce = this.nextNonce();
    const warmed = WARMED_BY.get(typeUrl);
    const updated = warmed ? state.updated(response) : [];
    state.sent(response, nonce, this.snapshot.resources.get(typeUrl as TypeUrl));
    this.send(typeUrl, encodeResponse(typeUrl, response.version, nonce, response.resources));
    // Updated clusters warm until their load assignments arrive: those go out next, changed or not.
    if (warmed && updated.length > 0 && this.types.get(warmed)?.rewarm(updated)) this.pushType(warmed);
  }
}
