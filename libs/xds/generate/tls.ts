/**
 * Mutual TLS between the proxies of a mesh, in the two shapes its proxies accept:
 * - `envoy`: Kuma's. Certificates come over SDS (`identity_cert:secret:<mesh>`,
 *   `mesh_ca:secret:<mesh>`) from kuma-dp's local SDS server (the key never leaves the host),
 *   SNI `<service>{mesh=<mesh>}`, ALPN `kuma`, SANs matched as URIs.
 * - `grpc`: proxyless gRPC. grpc-js-xds accepts only certificate provider instances (no SDS, no
 *   tls_params): both name the `file_watcher` instance kuma-dp writes into the gRPC bootstrap.
 */
import { enabledMtlsBackend, type MtlsMode } from '../../ca/mesh-mtls.ts';
import { MeshIdentityType, selectIdentity, spiffeIdOf, SYSTEM_TRUST_BUNDLE, TemplateError } from '../../ca/mesh-identity.ts';
import type { MeshState, ServiceView } from '../../mesh-view/mesh-view.ts';
import type { DataplaneModel } from '../../resources/dataplane-model.ts';
import { kriOf } from '../../resources/kri.ts';
import type { JsonObject } from '../../resources/validation.ts';
import { Names } from '../names.ts';

const T = 'type.googleapis.com/';
export const UPSTREAM_TLS_TYPE = `${T}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`;
export const DOWNSTREAM_TLS_TYPE = `${T}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`;
export const TLS_INSPECTOR_TYPE = `${T}envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector`;
export const TLS_SOCKET = 'envoy.transport_sockets.tls';
/** The provider instance kuma-dp names in the gRPC bootstrap (services/kuma-dp/identity.ts). */
export const GRPC_CERTIFICATE_PROVIDER = 'kuma';
/** The static cluster of kuma-dp's local SDS server in the Envoy bootstrap. */
export const SDS_CLUSTER = 'kuma:sds';

export type TlsFlavor = 'envoy' | 'grpc';

/** What the mesh's mTLS asks of a proxy's resources (part inputs: JSON-serialisable). */
export interface MeshTls {
  readonly mesh: string;
  readonly mode: MtlsMode;
  /**
   * With a MeshIdentity (Kuma 2.x): the SDS names of the proxy's certificate (the identity's KRI)
   * and of its trust bundle (`system_trust_bundle`), instead of the mesh's.
   */
  readonly sds?: { readonly identity: string; readonly trust: string };
  /** Trust domains of the mesh's MeshTrusts: clients with SPIFFE IDs under them are accepted too. */
  readonly trustDomains?: readonly string[];
}

const tlsOfMesh = new WeakMap<object, MeshTls | null>();

/**
 * The mesh's mTLS, or undefined when it has none. Read once per Mesh resource (stored resources
 * are immutable): configurers and plugins ask for every part of every proxy.
 */
export function meshTlsOf(mesh: string, view: MeshState | undefined): MeshTls | undefined {
  const resource = view?.mesh;
  if (!resource) return undefined;
  let tls = tlsOfMesh.get(resource);
  if (tls === undefined) {
    const backend = enabledMtlsBackend(resource.spec);
    tlsOfMesh.set(resource, (tls = backend ? { mesh, mode: backend.mode } : null));
  }
  return tls ?? undefined;
}

const proxyTls = new WeakMap<object, { readonly view: MeshState; readonly revision: number; readonly meshResource: object | undefined; readonly tls: MeshTls | undefined }>();

/**
 * The mTLS of one proxy: the mesh's, or with a MeshIdentity that selects it (Kuma 2.x) its
 * identity's, which turns mTLS on for it even in a mesh without `mtls`. Read once per Dataplane
 * model, view, Mesh resource and identity revision.
 */
export function proxyTlsOf(mesh: string, view: MeshState | undefined, model: DataplaneModel): MeshTls | undefined {
  const base = meshTlsOf(mesh, view);
  if (!view || view.identityRevision === 0) return base;
  const known = proxyTls.get(model);
  if (known && known.view === view && known.revision === view.identityRevision && known.meshResource === view.mesh) return known.tls;
  const trustDomains = [...view.trusts()].map((t) => String(t.spec['trustDomain'] ?? '')).filter((td) => td !== '').sort();
  const mi = selectIdentity(view.identities(), model.labels);
  const extra = trustDomains.length > 0 ? { trustDomains } : {};
  const tls: MeshTls | undefined = mi
    ? { mesh, mode: base?.mode ?? 'STRICT', sds: { identity: kriOf(mi.meta, MeshIdentityType)!, trust: SYSTEM_TRUST_BUNDLE }, ...extra }
    : base && { ...base, ...extra };
  proxyTls.set(model, { view, revision: view.identityRevision, meshResource: view.mesh, tls });
  return tls;
}

const peersOf = new WeakMap<ServiceView, { readonly revision: number; readonly peers: readonly string[] }>();

/**
 * The SPIFFE IDs a service's instances may present: Kuma's `spiffe://<mesh>/<service>`, and the
 * SPIFFE ID the MeshIdentity selecting each instance gives it. Once per service view and identity revision.
 */
export function servicePeers(mesh: string, view: MeshState | undefined, svc: ServiceView): readonly string[] {
  const legacy = spiffeId(mesh, svc.name);
  if (!view || view.identityRevision === 0) return [legacy];
  const known = peersOf.get(svc);
  if (known?.revision === view.identityRevision) return known.peers;
  const ids = new Set([legacy]);
  const identities = [...view.identities()];
  for (const ep of svc.endpoints) {
    const model = view.dataplaneModel(ep.dataplane);
    const mi = model && selectIdentity(identities, model.labels);
    if (!mi) continue;
    try {
      ids.add(spiffeIdOf(mi, 'default', { labels: model.labels, service: svc.name }));
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err; // that instance gets no certificate either
    }
  }
  const peers = [...ids].sort();
  peersOf.set(svc, { revision: view.identityRevision, peers });
  return peers;
}

const sdsConfig: JsonObject = {
  api_config_source: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: SDS_CLUSTER } }] },
  resource_api_version: 'V3',
};
const sdsSecret = (name: string): JsonObject => ({ name, sds_config: sdsConfig });
const provider: JsonObject = { instance_name: GRPC_CERTIFICATE_PROVIDER, certificate_name: 'default' };

export const spiffeId = (mesh: string, service: string) => `spiffe://${mesh}/${service}`;
/** Kuma's SNI for traffic to a service (tls.SNIFromTags with the mesh). */
export const sniFor = (mesh: string, service: string) => `${service}{mesh=${mesh}}`;

/**
 * The workload certificate to present, and the peers to accept: certificates from the mesh's CAs
 * whose URI SAN `san` matches (StringMatcher: `exact` or `prefix`), in the proxy's shape.
 */
function commonTlsContext(tls: MeshTls, flavor: TlsFlavor, sans: readonly JsonObject[]): JsonObject {
  if (flavor === 'grpc') return { tls_certificate_provider_instance: provider, validation_context: { ca_certificate_provider_instance: provider, match_subject_alt_names: [...sans] } };
  return {
    alpn_protocols: ['kuma'],
    tls_certificate_sds_secret_configs: [sdsSecret(tls.sds?.identity ?? Names.identitySecret(tls.mesh))],
    combined_validation_context: {
      default_validation_context: { match_typed_subject_alt_names: sans.map((matcher) => ({ san_type: 'URI', matcher })) },
      validation_context_sds_secret_config: sdsSecret(tls.sds?.trust ?? Names.meshCaSecret(tls.mesh)),
    },
  };
}

/**
 * Outbound: present the workload certificate, and accept from the trusted CAs only the identities
 * `service`'s instances have (`peers`, see servicePeers; Kuma's `spiffe://<mesh>/<service>` by default).
 */
export function upstreamTransportSocket(tls: MeshTls, service: string, flavor: TlsFlavor, peers: readonly string[] = [spiffeId(tls.mesh, service)]): JsonObject {
  const common = commonTlsContext(tls, flavor, peers.map((exact) => ({ exact })));
  return {
    name: TLS_SOCKET,
    typed_config: { '@type': UPSTREAM_TLS_TYPE, common_tls_context: common, ...(flavor === 'envoy' ? { sni: sniFor(tls.mesh, service) } : {}) },
  };
}

/**
 * Inbound: present the workload certificate and, in STRICT mode, require a client certificate
 * from one of the mesh's CAs with an identity of the mesh (MeshTrafficPermission decides which).
 */
export function downstreamTransportSocket(tls: MeshTls, flavor: TlsFlavor): JsonObject {
  const common = commonTlsContext(tls, flavor, [`spiffe://${tls.mesh}/`, ...(tls.trustDomains ?? []).map((td) => `spiffe://${td}/`)].map((prefix) => ({ prefix })));
  return {
    name: TLS_SOCKET,
    typed_config: { '@type': DOWNSTREAM_TLS_TYPE, common_tls_context: common, require_client_certificate: { value: tls.mode === 'STRICT' || flavor === 'envoy' } },
  };
}

/** The listener filter that tells TLS from plaintext (PERMISSIVE inbounds of Envoy). */
export const tlsInspector: JsonObject = { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TLS_INSPECTOR_TYPE } };

const chainsOf = (listener: JsonObject) => (listener['filter_chains'] as JsonObject[] | undefined) ?? [];
/** The filter chain of an inbound listener that terminates the mesh's TLS, if any. */
export const tlsChainOf = (listener: JsonObject): JsonObject | undefined => chainsOf(listener).find((c) => c['transport_socket'] !== undefined);

/**
 * PERMISSIVE on an Envoy inbound listener with its one TLS chain: that chain takes TLS
 * connections (told apart by the TLS inspector), and a plaintext copy of it takes the rest.
 */
export function acceptPlaintext(listener: JsonObject): void {
  const chains = chainsOf(listener);
  const tlsChain = tlsChainOf(listener);
  if (!tlsChain || chains.length !== 1) return;
  const plain = structuredClone(tlsChain);
  delete plain['transport_socket'];
  tlsChain['filter_chain_match'] = { transport_protocol: 'tls' };
  listener['filter_chains'] = [tlsChain, plain];
  listener['listener_filters'] = [...((listener['listener_filters'] as JsonObject[] | undefined) ?? []), structuredClone(tlsInspector)];
}

/** STRICT on an Envoy inbound listener: only its TLS chain, for every connection, and no TLS inspector. */
export function requireTls(listener: JsonObject): void {
  const tlsChain = tlsChainOf(listener);
  if (!tlsChain) return;
  delete tlsChain['filter_chain_match'];
  listener['filter_chains'] = [tlsChain];
  const rest = ((listener['listener_filters'] as JsonObject[] | undefined) ?? []).filter((f) => f['name'] !== tlsInspector['name']);
  if (rest.length > 0) listener['listener_filters'] = rest;
  else delete listener['listener_filters'];
}
