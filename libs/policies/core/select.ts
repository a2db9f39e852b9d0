/**
 * Which policies select a dataplane, and which of its inbounds (Kuma's matchers/dataplane.go: MatchedPolicies,
 * DppSelectedByPolicy). Pure: the caller passes the policies and a lookup for MeshHTTPRoutes and builtin gateways.
 */
import {
  LABEL,
  displayNameOf,
  roleOf,
  tagsMatch,
  topTargetRef,
  type MatchableDataplane,
  type MatchableMeshGateway,
  type PolicyItem,
} from './matchable.ts';
import { sortPolicies } from './sort.ts';
import type { TargetRef } from './target-ref.ts';

/** An inbound listener of a dataplane (Kuma's core_rules.InboundListener). `key` is `address:port`. */
export interface InboundListener {
  readonly address: string;
  readonly port: number;
}
export const listenerKey = (l: InboundListener): string => `${l.address}:${l.port}`;

/** What selection may need beyond the policy and the dataplane. Both lookups are optional; without them those kinds select nothing. */
export interface SelectionContext {
  /** The MeshHTTPRoute named `name` in `mesh` (for top-level `kind: MeshHTTPRoute`). */
  readonly route?: (mesh: string, name: string) => PolicyItem | undefined;
  /** The MeshGateway a builtin gateway dataplane serves. */
  readonly gatewayOf?: (dp: MatchableDataplane) => MatchableMeshGateway | undefined;
}

export interface Selection {
  /** Selected inbounds and builtin gateway listeners, in dataplane order, without duplicates. */
  readonly inbounds: readonly InboundListener[];
  /** A delegated gateway dataplane is selected as a whole (it has no inbounds). */
  readonly delegatedGateway: boolean;
  /** Set when the targetRef could not be resolved (e.g. a missing MeshHTTPRoute); the selection is then empty. */
  readonly error?: string;
}

const NONE: Selection = Object.freeze({ inbounds: [], delegatedGateway: false });
const MAX_ROUTE_DEPTH = 4;

/** True when the policy selects anything on the dataplane (an inbound, a gateway listener, or a delegated gateway). */
export function selects(policy: PolicyItem, dp: MatchableDataplane, ctx: SelectionContext = {}): boolean {
  const s = dataplaneSelection(policy, dp, ctx);
  return s.inbounds.length > 0 || s.delegatedGateway;
}

/**
 * Kuma's DppSelectedByPolicy for the policy's top-level targetRef (default `{kind: Mesh}`):
 * - a policy in another mesh, a zone-originated non-producer policy of another zone, and a consumer/workload-owner
 *   policy of another k8s namespace select nothing;
 * - Mesh / MeshSubset: inbounds whose tags contain `tags` (none for Mesh) if `proxyTypes` is empty or has the dataplane's type;
 * - Dataplane: by `name` (+`namespace`, default the policy's), by `labels` ⊆ dataplane labels, or every dataplane when
 *   neither is given; `sectionName` narrows to the inbound with that name or port;
 * - MeshService / MeshServiceSubset: inbounds tagged `kuma.io/service: name` (+ `tags`);
 * - MeshGateway: listeners of the builtin gateway named `name` whose merged tags contain `tags`;
 * - MeshHTTPRoute: the route's own top-level targetRef, evaluated with the route's metadata.
 * Tag-based kinds skip inbounds in state `Ignored`. Builtin gateway listeners take part in tag selection with the
 * merged tags of the dataplane gateway, the MeshGateway and the listener.
 */
export function dataplaneSelection(policy: PolicyItem, dp: MatchableDataplane, ctx: SelectionContext = {}): Selection {
  return selectByRef(policy, topTargetRef(policy), dp, ctx, 0);
}

function selectByRef(meta: PolicyItem, ref: TargetRef, dp: MatchableDataplane, ctx: SelectionContext, depth: number): Selection {
  if (meta.mesh !== dp.mesh || !selectedByZone(meta, dp) || !selectedByNamespace(meta, dp)) return NONE;
  switch (ref.kind) {
    case 'Mesh':
      return proxyTypeAllowed(ref, dp) ? byTags(undefined, dp, ctx) : NONE;
    case 'MeshSubset':
      return proxyTypeAllowed(ref, dp) ? byTags(ref.tags, dp, ctx) : NONE;
    case 'MeshService':
      return byTags({ [LABEL.service]: ref.name ?? '' }, dp, ctx);
    case 'MeshServiceSubset':
      return byTags({ ...ref.tags, [LABEL.service]: ref.name ?? '' }, dp, ctx);
    case 'Dataplane':
      return byDataplane(meta, ref, dp);
    case 'MeshGateway': {
      const gw = dp.gateway?.type === 'BUILTIN' ? ctx.gatewayOf?.(dp) : undefined;
      if (!gw || displayNameOf(gw) !== ref.name) return NONE;
      return { inbounds: gatewayListeners(ref.tags, dp, gw), delegatedGateway: false };
    }
    case 'MeshHTTPRoute': {
      const route = ref.name !== undefined && depth < MAX_ROUTE_DEPTH ? ctx.route?.(meta.mesh, ref.name) : undefined;
      if (!route) return { ...NONE, error: `couldn't resolve MeshHTTPRoute targetRef with name '${ref.name ?? ''}'` };
      return selectByRef(route, topTargetRef(route), dp, ctx, depth + 1);
    }
    default:
      return { ...NONE, error: `unsupported targetRef kind '${ref.kind}'` };
  }
}

function proxyTypeAllowed(ref: TargetRef, dp: MatchableDataplane): boolean {
  return !ref.proxyTypes || ref.proxyTypes.length === 0 || ref.proxyTypes.includes(dp.proxyType);
}

function byTags(selector: Readonly<Record<string, string>> | undefined, dp: MatchableDataplane, ctx: SelectionContext): Selection {
  const inbounds: InboundListener[] = [];
  for (const inb of dp.inbounds) {
    if (inb.state === 'Ignored') continue;
    if (tagsMatch(selector, inb.tags)) inbounds.push({ address: inb.address ?? dp.address ?? '', port: inb.port });
  }
  const gw = dp.gateway?.type === 'BUILTIN' ? ctx.gatewayOf?.(dp) : undefined;
  if (gw) inbounds.push(...gatewayListeners(selector, dp, gw).filter((l) => !inbounds.some((i) => i.address === l.address && i.port === l.port)));
  const delegatedGateway = dp.gateway?.type === 'DELEGATED' && tagsMatch(selector, dp.gateway.tags);
  return { inbounds, delegatedGateway };
}

function gatewayListeners(selector: Readonly<Record<string, string>> | undefined, dp: MatchableDataplane, gw: MatchableMeshGateway): InboundListener[] {
  const out: InboundListener[] = [];
  const seen = new Set<number>();
  for (const l of gw.listeners) {
    const merged = { ...dp.gateway?.tags, ...gw.tags, ...l.tags };
    if (tagsMatch(selector, merged) && !seen.has(l.port)) {
      seen.add(l.port);
      out.push({ address: dp.address ?? '', port: l.port });
    }
  }
  return out;
}

function byDataplane(meta: PolicyItem, ref: TargetRef, dp: MatchableDataplane): Selection {
  const all = ref.name === undefined && ref.namespace === undefined && ref.labels === undefined;
  if (!all && !selectedByIdentifier(meta, ref, dp) && !(ref.labels !== undefined && labelsMatch(ref.labels, dp.labels))) return NONE;
  const section = ref.sectionName;
  const inbounds = dp.inbounds
    .filter((i) => !section || i.name === section || String(i.port) === section)
    .map((i) => ({ address: i.address ?? dp.address ?? '', port: i.port }));
  return { inbounds, delegatedGateway: dp.gateway?.type === 'DELEGATED' };
}

/** Kuma's isSelectedByLabels: every label present with exactly that value (no `*`). */
function labelsMatch(want: Readonly<Record<string, string>>, have: Readonly<Record<string, string>>): boolean {
  for (const k in want) if (have[k] !== want[k]) return false;
  return true;
}

/**
 * Kuma compares KRIs: the dataplane's (mesh, `kuma.io/zone`, `k8s.kuma.io/namespace`, display name) against the
 * targetRef resolved with the policy's metadata (mesh, the policy's `kuma.io/zone`, `namespace` defaulting to the
 * policy's namespace, `name`). Absent labels compare as empty strings.
 */
function selectedByIdentifier(meta: PolicyItem, ref: TargetRef, dp: MatchableDataplane): boolean {
  if (!ref.name || displayNameOf(dp) !== ref.name) return false;
  const ns = ref.namespace ?? meta.labels?.[LABEL.namespace] ?? '';
  const zone = meta.labels?.[LABEL.zone] ?? '';
  return (dp.labels[LABEL.namespace] ?? '') === ns && (dp.labels[LABEL.zone] ?? '') === zone;
}

function selectedByNamespace(meta: PolicyItem, dp: MatchableDataplane): boolean {
  const role = roleOf(meta);
  if (role !== 'consumer' && role !== 'workload-owner') return true;
  const ns = meta.labels?.[LABEL.namespace];
  return ns !== undefined && ns === dp.labels[LABEL.namespace];
}

function selectedByZone(meta: PolicyItem, dp: MatchableDataplane): boolean {
  if (roleOf(meta) === 'producer') return true;
  const dpOrigin = dp.labels[LABEL.origin];
  if (dpOrigin === undefined || dpOrigin === 'global') return true;
  if (meta.labels?.[LABEL.origin] !== 'zone') return true;
  const zone = meta.labels[LABEL.zone];
  return zone === undefined || dp.labels[LABEL.zone] === zone;
}

/** Whether a policy carries `kuma.io/effect: shadow` (computed but not applied). */
export const isShadow = (p: PolicyItem): boolean => p.labels?.[LABEL.effect] === 'shadow';

export interface InboundPolicies {
  readonly listener: InboundListener;
  /** Sorted like `policies`. */
  readonly policies: readonly PolicyItem[];
}

export interface MatchedPolicies {
  readonly type: string;
  /** Every policy of `type` that selects the dataplane, sorted ascending (the last one has the highest priority). */
  readonly policies: readonly PolicyItem[];
  /** The policies selecting each inbound/listener, keyed by `listenerKey`, in first-selected order. */
  readonly byInbound: ReadonlyMap<string, InboundPolicies>;
  /** Targets that could not be resolved, with the policy named, as Kuma words them. */
  readonly warnings: readonly string[];
}

/**
 * Kuma's MatchedPolicies: the policies of `type` (others in `policies` are ignored) that select `dp`, skipping
 * `kuma.io/effect: shadow` unless `includeShadow`, sorted by `sortPolicies`, plus the same per selected inbound.
 * The input array is not modified.
 */
export function matchedPolicies(
  type: string,
  dp: MatchableDataplane,
  policies: Iterable<PolicyItem>,
  ctx: SelectionContext = {},
  opts: { readonly includeShadow?: boolean } = {},
): MatchedPolicies {
  const selected: PolicyItem[] = [];
  const byInbound = new Map<string, { listener: InboundListener; policies: PolicyItem[] }>();
  const warnings: string[] = [];
  for (const p of policies) {
    if (p.type !== type) continue;
    if (!opts.includeShadow && isShadow(p)) continue;
    const s = dataplaneSelection(p, dp, ctx);
    if (s.error) warnings.push(`unable to resolve TargetRef on policy: mesh:${p.mesh} name:${p.name} error:${JSON.stringify(s.error)}`);
    if (s.inbounds.length === 0 && !s.delegatedGateway) continue;
    selected.push(p);
    for (const l of s.inbounds) {
      const k = listenerKey(l);
      let entry = byInbound.get(k);
      if (!entry) byInbound.set(k, (entry = { listener: l, policies: [] }));
      entry.policies.push(p);
    }
  }
  const sortedByInbound = new Map<string, InboundPolicies>();
  for (const [k, v] of byInbound) sortedByInbound.set(k, { listener: v.listener, policies: sortPolicies(v.policies) });
  return { type, policies: sortPolicies(selected), byInbound: sortedByInbound, warnings };
}
