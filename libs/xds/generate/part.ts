import type { InboundModel } from '../../resources/dataplane-model.ts';
import type { Protocol } from '../../resources/tags.ts';
import type { JsonObject } from '../../resources/validation.ts';
import type { ServiceView } from '../../mesh-view/mesh-view.ts';
import type { TypeUrl } from '../protos.ts';

/**
 * What a group of resources is for, so that policy plugins can tell which rules apply: an
 * inbound of the proxy, traffic to a service, or the proxy itself.
 */
export type Origin =
  | { readonly kind: 'inbound'; readonly inbound: InboundModel }
  | { readonly kind: 'outbound'; readonly service: string; readonly protocol: Protocol }
  | { readonly kind: 'proxy'; readonly aspect: 'transparent' | 'admin' };

/**
 * An Envoy resource before encoding: a plain, mutable body in proto field names. Configurers
 * create drafts, plugins modify them, and the translator encodes and hashes each once.
 */
export interface Draft {
  readonly typeUrl: TypeUrl;
  readonly name: string;
  body: JsonObject;
  /** Served only when a client names it (proxyless gRPC); see Snapshot.namedOnly. */
  readonly namedOnly: boolean;
}

/**
 * One unit of translation: the drafts a configurer builds for one origin, from `inputs` alone.
 * Parts with the same `kind` and `inputs` that plugins configure alike produce identical
 * resources, so the translator builds them once (per distinct configuration, not per proxy)
 * and shares the encoded objects.
 */
export interface Part {
  /** A short tag that keeps different part builders apart in cache keys (`out-lds`, `eds`). */
  readonly kind: string;
  readonly origin: Origin;
  /** Everything `build` reads, JSON-serialisable: the part's cache key. */
  readonly inputs: unknown;
  /** Fresh drafts on every call: plugins may modify them. */
  build(): Draft[];
  /**
   * A part of exactly one resource whose content follows a service's endpoints (its
   * ClusterLoadAssignment): served by reference through a slot (see XdsResource.shareKey), and
   * rebuilt with `of(service)` when only the endpoints change, without its consumers.
   */
  readonly slot?: { readonly service: string; of(svc: ServiceView): Part };
}

/** Helper for configurers: a draft in the main section. */
export const draft = (typeUrl: TypeUrl, name: string, body: JsonObject, namedOnly = false): Draft => ({ typeUrl, name, body, namedOnly });
