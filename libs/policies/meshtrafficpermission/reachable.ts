import type { MeshChange, MeshState } from '../../mesh-view/mesh-view.ts';
import { parseDataplane, type DataplaneModel, type InboundModel } from '../../resources/dataplane-model.ts';
import type { OutboundTrim } from '../../xds/generate/context.ts';
import type { ClientRules } from '../../xds/generate/plugin.ts';
import { meshTlsOf } from '../../xds/generate/tls.ts';
import type { PolicyItem } from '../core/matchable.ts';
import { selects } from '../core/select.ts';
import { containsElement } from '../core/subset-rules.ts';
import { ComputedPolicies, type PolicySource } from '../engine/proxy-policies.ts';
import type { Match } from './api.ts';
import { MESH_TRAFFIC_PERMISSION } from './plugin.ts';

/**
 * Tags a service's instances share, so a destination service can be matched as one artificial
 * Dataplane (Kuma's SupportedTags, meshtrafficpermission/graph/services).
 */
const SUPPORTED_TAGS = ['kuma.io/service', 'k8s.kuma.io/namespace', 'k8s.kuma.io/service-name', 'k8s.kuma.io/service-port'] as const;

/** A client as MeshTrafficPermissions see it: its inbounds' tag sets and the SPIFFE IDs its certificate carries. */
interface Client {
  readonly key: string;
  readonly tagSets: readonly Readonly<Record<string, string>>[];
  readonly ids: readonly string[];
}

const clients = new WeakMap<DataplaneModel, Client>();
type PolicyChange = NonNullable<MeshChange['policy']>;

function clientOf(model: DataplaneModel): Client {
  let c = clients.get(model);
  if (!c) {
    const inbounds = model.inbounds.filter((i) => i.state !== 'Ignored');
    // Without inbounds the client has no tags: only rules that hold for everyone can allow it (as its RBAC).
    const tagSets = inbounds.length > 0 ? inbounds.map((i) => i.tags) : [{}];
    const ids = [...new Set(inbounds.map((i) => `spiffe://${model.mesh}/${i.service}`))];
    c = { key: JSON.stringify(tagSets.map((t) => Object.entries(t).sort())), tagSets, ids };
    clients.set(model, c);
  }
  return c;
}

const matches = (m: Match, ids: readonly string[]): boolean | undefined => {
  if (m.spiffeID) return ids.some((id) => (m.spiffeID!.type === 'Prefix' ? id.startsWith(m.spiffeID!.value) : id === m.spiffeID!.value));
  // An SNI match names what the client asked for, which is not known here.
  return m.sni ? undefined : false;
};

/**
 * Whether the RBAC that `rules` become (see permissionsOf) may let the client in. Never false
 * for a client it would allow: where it cannot tell (an SNI match), the service stays reachable.
 * - no permission selects the service: denied (Kuma's default with mTLS);
 * - `rules[]`: a deny match on one of the client's SPIFFE IDs denies; an allow match allows;
 * - legacy `from[]`: as Kuma's graph, the first subset holding one of the client's tag sets decides.
 */
export function mayCall(rules: ClientRules | null, client: Client): boolean {
  if (!rules) return false;
  let allowed = false;
  for (const r of rules.rules) {
    const conf = (r.conf ?? {}) as { allow?: readonly Match[]; deny?: readonly Match[]; allowWithShadowDeny?: readonly Match[] };
    for (const m of conf.deny ?? []) {
      const hit = matches(m, client.ids);
      if (hit === true) return false;
      if (hit === undefined) allowed = true;
    }
    for (const m of [...(conf.allow ?? []), ...(conf.allowWithShadowDeny ?? [])]) if (matches(m, client.ids) !== false) allowed = true;
  }
  if (allowed) return true;
  for (const tags of client.tagSets) {
    const decides = rules.subsets.find((s) => containsElement(s.subset, tags));
    const action = (decides?.conf as { action?: string } | undefined)?.action;
    if (action === 'Allow' || action === 'AllowWithShadowDeny') return true;
  }
  return false;
}

/**
 * A permission as Kuma's graph reads it: Dataplane-kind targetRefs are left out (they select
 * proxies, not services), subset tags other than the supported ones are dropped, which widens the
 * subset (trimNotSupportedTags).
 */
const asServicePolicy = new WeakMap<PolicyItem, PolicyItem | null>();
function servicePolicy(p: PolicyItem): PolicyItem | null {
  let out = asServicePolicy.get(p);
  if (out === undefined) {
    const ref = p.spec.targetRef;
    if (ref?.kind === 'Dataplane') out = null;
    else if (ref?.tags && Object.keys(ref.tags).some((k) => !(SUPPORTED_TAGS as readonly string[]).includes(k))) {
      const tags = Object.fromEntries(Object.entries(ref.tags).filter(([k]) => (SUPPORTED_TAGS as readonly string[]).includes(k)));
      out = { ...p, spec: { ...p.spec, targetRef: { ...ref, tags } } };
    } else out = p;
    asServicePolicy.set(p, out);
  }
  return out;
}

/** One mesh's graph: per destination service, the rules its permissions give (at one MTP revision). */
class MeshGraph {
  revision = -1;
  /** Rules by service (`null`: no permission selects it), computed on first use. */
  private rules = new Map<string, ClientRules | null>();
  /** The artificial Dataplane of each service, by the tags it was made from. */
  private readonly models = new Map<string, { readonly key: string; readonly model: DataplaneModel }>();
  /** Shared rule objects: services selected by the same permissions get the same object. */
  private rulesCache = new Map<string, unknown>();
  /** Decisions by rule object and client key. */
  private readonly decisions = new WeakMap<ClientRules, Map<string, boolean>>();
  private readonly none = new Map<string, boolean>();

  constructor(private readonly view: MeshState) {
    this.revision = view.policyRevisionOf(MESH_TRAFFIC_PERMISSION);
  }

  /** At a new MTP revision not seen through `update` (nothing to compare with): starts afresh. */
  refresh(): void {
    const now = this.view.policyRevisionOf(MESH_TRAFFIC_PERMISSION);
    if (now === this.revision) return;
    this.revision = now;
    this.rules = new Map();
    this.rulesCache = new Map();
  }

  /**
   * After one permission changed (`before` → `after`): recomputes the rules of the services it
   * selected or selects, and returns those whose rules moved, as [before, after]. Services it does
   * not select keep their rules. Changes missed in between: every known service is recomputed.
   */
  update(before: PolicyItem | undefined, after: PolicyItem | undefined): [ClientRules | null, ClientRules | null][] {
    const now = this.view.policyRevisionOf(MESH_TRAFFIC_PERMISSION);
    const missed = now !== this.revision + 1;
    this.revision = now;
    this.rulesCache = new Map();
    const was = [before, after].flatMap((p) => (p ? (servicePolicy(p) ?? []) : []));
    const moved: [ClientRules | null, ClientRules | null][] = [];
    const text = new Map<ClientRules | null, string>();
    const textOf = (r: ClientRules | null) => text.get(r) ?? text.set(r, JSON.stringify(r)).get(r)!;
    for (const [service, old] of this.rules) {
      const model = this.modelOf(service);
      if (!missed && !was.some((p) => selects(p, model, this.view.selectionContext))) continue;
      const next = this.compute(model);
      this.rules.set(service, next);
      // By content: rule objects are made anew.
      if (textOf(old) !== textOf(next)) moved.push([old, next]);
    }
    return moved;
  }

  rulesOf(service: string): ClientRules | null {
    let r = this.rules.get(service);
    if (r === undefined) {
      r = this.compute(this.modelOf(service));
      this.rules.set(service, r);
    }
    return r;
  }

  mayCall(rules: ClientRules | null, client: Client): boolean {
    const byClient = rules ? (this.decisions.get(rules) ?? this.decisions.set(rules, new Map()).get(rules)!) : this.none;
    let d = byClient.get(client.key);
    if (d === undefined) byClient.set(client.key, (d = mayCall(rules, client)));
    return d;
  }

  /** Kuma's artificial Dataplane: one inbound with the tags every instance of the service shares. */
  private modelOf(service: string): DataplaneModel {
    // Not a read of the proxy being translated: deciding which services it keeps is not building from them.
    const first = this.view.service(service, false)?.endpoints[0]?.tags ?? {};
    const tags: Record<string, string> = { 'kuma.io/service': service };
    for (const t of SUPPORTED_TAGS) if (first[t] !== undefined && t !== 'kuma.io/service') tags[t] = first[t];
    const key = JSON.stringify(tags);
    let m = this.models.get(service);
    if (m?.key !== key) {
      m = { key, model: parseDataplane(this.view.name, '', {}, { networking: { address: '1.1.1.1', inbound: [{ port: 1234, tags }] } }) };
      this.models.set(service, m);
    }
    return m.model;
  }

  private compute(model: DataplaneModel): ClientRules | null {
    const source: PolicySource = {
      policies: (type) => [...this.view.policies(type)].flatMap((p) => servicePolicy(p) ?? []),
      selectionContext: this.view.selectionContext,
      rulesCache: this.rulesCache,
    };
    return new ComputedPolicies(source, model).fromInboundRules(MESH_TRAFFIC_PERMISSION, model.inbounds[0] as InboundModel) ?? null;
  }
}

/**
 * Kuma's automatic reachable services (`KUMA_EXPERIMENTAL_AUTO_REACHABLE_SERVICES`): with the
 * mesh's mTLS on, a transparent proxy without `reachableServices` gets outbounds only to the
 * services whose MeshTrafficPermissions may let it in. Trimming never removes a service the
 * proxy's calls would be allowed to (see `mayCall`); as Kuma, it reads permissions per service,
 * so one that selects some instances of a service by other tags counts for all of them.
 * A permission change rebuilds exactly the proxies whose reachable services it changed.
 */
export class ReachableServices implements OutboundTrim {
  private readonly graphs = new WeakMap<MeshState, MeshGraph>();

  private graphOf(view: MeshState): MeshGraph {
    let g = this.graphs.get(view);
    if (!g) this.graphs.set(view, (g = new MeshGraph(view)));
    return g;
  }

  private applies(view: MeshState, model: DataplaneModel): boolean {
    const tp = model.transparentProxying;
    // With MeshIdentities, clients present other SPIFFE IDs than the ones read here: no trimming.
    return tp !== undefined && tp.reachableServices.length === 0 && !view.hasIdentities() && meshTlsOf(view.name, view) !== undefined;
  }

  reachableFrom(view: MeshState, model: DataplaneModel): ((service: string) => boolean) | undefined {
    if (!this.applies(view, model)) return undefined;
    const g = this.graphOf(view);
    g.refresh();
    const client = clientOf(model);
    return (service) => g.mayCall(g.rulesOf(service), client);
  }

  affectedBy(view: MeshState, policy: PolicyChange): string[] {
    if (policy.type !== MESH_TRAFFIC_PERMISSION) return [];
    // Nothing was trimmed in this mesh yet: there is nothing to compare with.
    const g = this.graphs.get(view);
    if (!g) return [];
    const moved = g.update(policy.before, policy.after);
    if (moved.length === 0) return [];
    const out: string[] = [];
    for (const name of view.transparentDataplanes()) {
      const model = view.dataplaneModel(name);
      if (!model || !this.applies(view, model)) continue;
      const client = clientOf(model);
      if (moved.some(([old, now]) => g.mayCall(old, client) !== g.mayCall(now, client))) out.push(name);
    }
    return out;
  }
}
