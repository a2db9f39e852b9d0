import type { JsonObject } from '../../resources/validation.ts';
import type { ClientRules, ClientTag, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { proxyTlsOf, TLS_SOCKET } from '../../xds/generate/tls.ts';
import { Names } from '../../xds/names.ts';
import { TypeUrl } from '../../xds/protos.ts';
import { statPrefix } from '../../xds/generate/filters.ts';
import { insertBeforeRouter } from '../core/http-filters.ts';
import { once } from '../core/once.ts';
import type { Match } from './api.ts';

export const MESH_TRAFFIC_PERMISSION = 'MeshTrafficPermission';

const T = 'type.googleapis.com/';
const HTTP_RBAC = 'envoy.filters.http.rbac';
const NETWORK_RBAC = 'envoy.filters.network.rbac';
const HTTP_RBAC_TYPE = `${T}envoy.extensions.filters.http.rbac.v3.RBAC`;
const NETWORK_RBAC_TYPE = `${T}envoy.extensions.filters.network.rbac.v3.RBAC`;
const TCP_PROXY = 'envoy.filters.network.tcp_proxy';
const HCM = 'envoy.filters.network.http_connection_manager';

/** Envoy RBAC policies by name (`config.rbac.v3.Policy`). */
type Policies = Record<string, JsonObject>;

/** What the plugin applies to an inbound: who is denied first, who is allowed then (everyone else is denied), and who only in shadow. */
interface Permissions {
  readonly deny: Policies;
  readonly allow: Policies;
  readonly shadowDeny: Policies;
  readonly statPrefix: string;
}

const ANY_PERMISSION = [{ any: true }];

/** Kuma's rules for an inbound that no MeshTrafficPermission selects, with the mesh's mTLS on: every client is denied. */
const DENY_ALL: ClientRules = { rules: [], subsets: [{ subset: [], conf: { action: 'Deny' } }] };
const name = (value: string): JsonObject => ({ authenticated: { principal_name: { exact: value } } });

/** A client subset as an RBAC principal: each positive tag's SAN present, each negated one absent (Kuma's certificates carry both forms). */
function subsetPrincipal(mesh: string, subset: readonly ClientTag[]): JsonObject {
  if (subset.length === 0) return { any: true };
  const ids = subset.map((t) => {
    const id = name(t.key === 'kuma.io/service' ? `spiffe://${mesh}/${t.value}` : `kuma://${t.key}/${t.value}`);
    return t.not ? { not_id: id } : id;
  });
  return ids.length === 1 ? ids[0]! : { and_ids: { ids } };
}

/** A `rules[]` match as an RBAC policy: a SPIFFE ID (principal) or an SNI (permission). */
function matchPolicy(m: Match): JsonObject | undefined {
  if (m.spiffeID) {
    const matcher = m.spiffeID.type === 'Prefix' ? { prefix: m.spiffeID.value } : { exact: m.spiffeID.value };
    return { permissions: ANY_PERMISSION, principals: [{ authenticated: { principal_name: matcher } }] };
  }
  if (m.sni) return { permissions: [{ requested_server_name: { exact: m.sni.value } }], principals: [{ any: true }] };
  return undefined;
}

const withoutFrom = new WeakMap<ClientRules, ClientRules>();
/** Kuma: a proxy with a MeshIdentity is authorized by `rules` (SPIFFE IDs) alone; `from` is ignored (no rule: nobody). */
function rulesOnly(clients: ClientRules): ClientRules {
  let r = withoutFrom.get(clients);
  if (!r) withoutFrom.set(clients, (r = { rules: clients.rules, subsets: [] }));
  return r;
}

/**
 * Kuma 2.14's MeshTrafficPermission as RBAC:
 * - `rules[]`: every deny match is denied first; then allow and allowWithShadowDeny matches are
 *   allowed (allowWithShadowDeny also goes to the shadow DENY rules); everyone else is denied;
 * - legacy `from[]`: Kuma's subset rules, the first whose subset holds the client's tags deciding;
 *   each Allow rule becomes a principal that excludes the Deny subsets before it, so the order
 *   holds in one ALLOW filter.
 */
export function permissionsOf(mesh: string, clients: ClientRules, statPrefix: string): Permissions {
  const deny: Policies = {};
  const allow: Policies = {};
  const shadowDeny: Policies = {};
  clients.rules.forEach((r, i) => {
    const conf = (r.conf ?? {}) as { allow?: readonly Match[]; deny?: readonly Match[]; allowWithShadowDeny?: readonly Match[] };
    const add = (into: Policies, list: readonly Match[] | undefined, kind: string) =>
      (list ?? []).forEach((m, j) => {
        const p = matchPolicy(m);
        if (p) into[`MeshTrafficPermission-${kind}-${i}-${j}`] = p;
      });
    add(deny, conf.deny, 'deny');
    add(allow, conf.allow, 'allow');
    add(allow, conf.allowWithShadowDeny, 'allow-shadow');
    add(shadowDeny, conf.allowWithShadowDeny, 'shadow');
  });
  const denied: JsonObject[] = [];
  clients.subsets.forEach((r, i) => {
    const action = (r.conf as { action?: string } | undefined)?.action;
    const principal = subsetPrincipal(mesh, r.subset);
    if (action === 'Allow' || action === 'AllowWithShadowDeny') {
      const p = denied.length === 0 ? principal : { and_ids: { ids: [principal, { not_id: denied.length === 1 ? denied[0]! : { or_ids: { ids: [...denied] } } }] } };
      allow[`MeshTrafficPermission-from-${i}`] = { permissions: ANY_PERMISSION, principals: [p] };
      if (action === 'AllowWithShadowDeny') shadowDeny[`MeshTrafficPermission-from-${i}`] = { permissions: ANY_PERMISSION, principals: [p] };
    } else denied.push(principal);
  });
  return { deny, allow, shadowDeny, statPrefix };
}

const rbacConfig = (type: string, p: Permissions, action: 'ALLOW' | 'DENY', policies: Policies, shadow: boolean, network: boolean): JsonObject => ({
  '@type': type,
  // No policy (Envoy's default, so left out): an ALLOW filter then denies every client.
  rules: { action, ...(Object.keys(policies).length > 0 ? { policies: structuredClone(policies) } : {}) },
  ...(shadow && Object.keys(p.shadowDeny).length > 0 ? { shadow_rules: { action: 'DENY', policies: structuredClone(p.shadowDeny) } } : {}),
  ...(network ? { stat_prefix: `${p.statPrefix}.` } : {}),
});

/** The RBAC HTTP filters (DENY then ALLOW) for an HTTP connection manager. */
function httpFilters(p: Permissions, envoy: boolean): JsonObject[] {
  const out: JsonObject[] = [];
  if (Object.keys(p.deny).length > 0) out.push({ name: `${HTTP_RBAC}.deny`, typed_config: rbacConfig(HTTP_RBAC_TYPE, p, 'DENY', p.deny, false, false) });
  out.push({ name: HTTP_RBAC, typed_config: rbacConfig(HTTP_RBAC_TYPE, p, 'ALLOW', p.allow, envoy, false) });
  return out;
}

/** The RBAC network filters (DENY then ALLOW) for a TCP proxy chain. */
function networkFilters(p: Permissions): JsonObject[] {
  const out: JsonObject[] = [];
  if (Object.keys(p.deny).length > 0) out.push({ name: `${NETWORK_RBAC}.deny`, typed_config: rbacConfig(NETWORK_RBAC_TYPE, p, 'DENY', p.deny, false, true) });
  out.push({ name: NETWORK_RBAC, typed_config: rbacConfig(NETWORK_RBAC_TYPE, p, 'ALLOW', p.allow, true, true) });
  return out;
}

/**
 * MeshTrafficPermission (Kuma order 1100): who may call an inbound. Only with the mesh's mTLS
 * (without it there is no client identity, and Kuma applies nothing); as Kuma 2.14, an inbound
 * no permission selects denies every client, one that some select denies whoever no rule allows.
 * Only filter chains behind the mesh's TLS are guarded: PERMISSIVE's plaintext chain stays open,
 * as Kuma. Envoy inbounds get RBAC HTTP or network filters; proxyless gRPC server listeners the
 * RBAC HTTP filter, which grpc-js-xds runs with GRPC_XDS_EXPERIMENTAL_RBAC=true.
 */
export const meshTrafficPermissionPlugin: TranslationPlugin = {
  name: MESH_TRAFFIC_PERMISSION,
  order: 1100,
  reads: [MESH_TRAFFIC_PERMISSION],
  configure(part, ctx): Permissions | undefined {
    if (part.kind !== 'inbound' || part.origin.kind !== 'inbound') return undefined;
    const tls = proxyTlsOf(ctx.mesh, ctx.view, ctx.dataplane);
    if (!tls) return undefined;
    const found = ctx.policies.fromInboundRules?.(MESH_TRAFFIC_PERMISSION, part.origin.inbound) ?? DENY_ALL;
    const clients = tls.sds ? rulesOnly(found) : found;
    const stat = statPrefix(`inbound_${part.origin.inbound.address}_${part.origin.inbound.port}`);
    return once(clients, `${ctx.mesh}\u0000${stat}`, () => permissionsOf(ctx.mesh, clients, stat));
  },
  apply(drafts, conf, part) {
    const p = conf as Permissions;
    if (part.origin.kind !== 'inbound') return;
    const envoyListener = Names.inboundListener(part.origin.inbound.address, part.origin.inbound.port);
    for (const d of drafts) {
      if (d.typeUrl !== TypeUrl.Listener) continue;
      const envoy = d.name === envoyListener;
      if (!envoy && !d.name.startsWith('kuma.io/grpc/inbound/')) continue;
      for (const chain of (d.body.filter_chains as JsonObject[] | undefined) ?? []) {
        if ((chain.transport_socket as JsonObject | undefined)?.name !== TLS_SOCKET) continue;
        const filters = (chain.filters as JsonObject[] | undefined) ?? [];
        const hcm = filters.find((f) => f.name === HCM);
        if (hcm) {
          insertBeforeRouter(hcm.typed_config as JsonObject, httpFilters(p, envoy));
          continue;
        }
        if (!envoy) continue;
        const at = filters.findIndex((f) => f.name === TCP_PROXY);
        filters.splice(at < 0 ? 0 : at, 0, ...networkFilters(p));
        chain.filters = filters;
      }
    }
  },
};
