/**
 * An index of one mesh's dataplanes for answering "which dataplanes does this policy select?" in time proportional to
 * the candidates, not to all dataplanes. A policy change regenerates `affectedBy(before, after)`: exactly the
 * dataplanes selected before or after.
 */
import { LABEL, displayNameOf, topTargetRef, type MatchableDataplane, type PolicyItem } from './matchable.ts';
import { selects, type SelectionContext } from './select.ts';
import type { TargetRef } from './target-ref.ts';

const MAX_ROUTE_DEPTH = 4;

/**
 * Mutable index of dataplanes by name. Candidates come from posting lists:
 * - Mesh / MeshSubset without tags / Dataplane without name and labels: all dataplanes;
 * - MeshSubset, MeshService, MeshServiceSubset: the shortest posting list among the selector's `tag=value` pairs
 *   (inbound tags and delegated-gateway tags; `*` values use the per-key list);
 * - Dataplane by name: the display name list; by labels: the shortest `label=value` list;
 * - MeshGateway: builtin gateway dataplanes; MeshHTTPRoute: the candidates of the route's own targetRef.
 * Each candidate is then checked with `selects`, so answers equal brute-force selection.
 * Not thread-safe; callers own it (one per mesh view).
 */
export class DataplaneSelectionIndex {
  private readonly byName = new Map<string, MatchableDataplane>();
  private readonly byTag = new Map<string, Set<string>>();
  private readonly byLabel = new Map<string, Set<string>>();
  private readonly byDisplayName = new Map<string, Set<string>>();
  private readonly builtinGateways = new Set<string>();

  constructor(private readonly ctx: SelectionContext = {}) {}

  get size(): number {
    return this.byName.size;
  }

  /** Adds or replaces the dataplane with `dp.name`. */
  upsert(dp: MatchableDataplane): void {
    this.remove(dp.name);
    this.byName.set(dp.name, dp);
    for (const k of tagKeys(dp)) add(this.byTag, k, dp.name);
    for (const [k, v] of Object.entries(dp.labels)) add(this.byLabel, `${k}\u0000${v}`, dp.name);
    add(this.byDisplayName, displayNameOf(dp), dp.name);
    if (dp.gateway?.type === 'BUILTIN') this.builtinGateways.add(dp.name);
  }

  /** Removes the dataplane named `name`; a no-op when absent. */
  remove(name: string): void {
    const dp = this.byName.get(name);
    if (!dp) return;
    this.byName.delete(name);
    for (const k of tagKeys(dp)) del(this.byTag, k, name);
    for (const [k, v] of Object.entries(dp.labels)) del(this.byLabel, `${k}\u0000${v}`, name);
    del(this.byDisplayName, displayNameOf(dp), name);
    this.builtinGateways.delete(name);
  }

  /** Names of the dataplanes `policy` selects (any inbound, listener or delegated gateway), sorted. */
  selectedBy(policy: PolicyItem): string[] {
    const out: string[] = [];
    for (const name of this.candidates(policy, topTargetRef(policy), 0)) {
      const dp = this.byName.get(name);
      if (dp && selects(policy, dp, this.ctx)) out.push(name);
    }
    return out.sort();
  }

  /** How many dataplanes `selectedBy(policy)` would check (the posting-list size), for tests and metrics. */
  candidateCount(policy: PolicyItem): number {
    let n = 0;
    for (const _ of this.candidates(policy, topTargetRef(policy), 0)) n++;
    return n;
  }

  /** The dataplanes whose configuration a policy change may alter: selected before or after (either may be absent). */
  affectedBy(before: PolicyItem | undefined, after: PolicyItem | undefined): string[] {
    const s = new Set<string>();
    if (before) for (const n of this.selectedBy(before)) s.add(n);
    if (after) for (const n of this.selectedBy(after)) s.add(n);
    return [...s].sort();
  }

  private all(): Iterable<string> {
    return this.byName.keys();
  }

  private candidates(policy: PolicyItem, ref: TargetRef, depth: number): Iterable<string> {
    switch (ref.kind) {
      case 'Mesh':
        return this.all();
      case 'MeshSubset':
        return this.byTags(ref.tags ?? {});
      case 'MeshService':
        return this.byTags({ [LABEL.service]: ref.name ?? '' });
      case 'MeshServiceSubset':
        return this.byTags({ ...ref.tags, [LABEL.service]: ref.name ?? '' });
      case 'Dataplane':
        if (ref.labels && Object.keys(ref.labels).length === 0) return this.all(); // Kuma: empty non-nil labels match every dataplane
        if (ref.name) return this.union(this.byDisplayName.get(ref.name), ref.labels ? this.byLabels(ref.labels) : undefined);
        if (ref.labels) return this.byLabels(ref.labels);
        return ref.namespace === undefined ? this.all() : [];
      case 'MeshGateway':
        return this.builtinGateways;
      case 'MeshHTTPRoute': {
        const route = ref.name !== undefined && depth < MAX_ROUTE_DEPTH ? this.ctx.route?.(policy.mesh, ref.name) : undefined;
        return route ? this.candidates(route, topTargetRef(route), depth + 1) : [];
      }
      default:
        return [];
    }
  }

  /** Tag selection also sees builtin gateway listener tags, which come from the MeshGateway: gateways are always candidates. */
  private byTags(selector: Readonly<Record<string, string>>): Iterable<string> {
    const keys = Object.entries(selector).map(([k, v]) => (v === '*' ? k : `${k}\u0000${v}`));
    if (keys.length === 0) return this.all();
    let best: Set<string> | undefined;
    for (const k of keys) {
      const s = this.byTag.get(k);
      if (!s) return this.builtinGateways;
      if (!best || s.size < best.size) best = s;
    }
    return this.union(best, this.builtinGateways);
  }

  /** The shortest `label=value` posting list of a non-empty selector (empty when some pair has no dataplane). */
  private byLabels(selector: Readonly<Record<string, string>>): Set<string> {
    let best: Set<string> | undefined;
    for (const [k, v] of Object.entries(selector)) {
      const s = this.byLabel.get(`${k}\u0000${v}`);
      if (!s) return new Set();
      if (!best || s.size < best.size) best = s;
    }
    return best ?? new Set();
  }

  private union(a: Set<string> | undefined, b: Set<string> | undefined): Iterable<string> {
    if (!a || a.size === 0) return b ?? [];
    if (!b || b.size === 0) return a;
    return new Set([...a, ...b]);
  }
}

/** Posting keys of a dataplane's tags: `k\\0v` and `k` for every inbound tag and delegated-gateway tag. */
function tagKeys(dp: MatchableDataplane): Set<string> {
  const keys = new Set<string>();
  const addTags = (tags: Readonly<Record<string, string>>) => {
    for (const [k, v] of Object.entries(tags)) {
      keys.add(`${k}\u0000${v}`);
      keys.add(k);
    }
  };
  for (const i of dp.inbounds) addTags(i.tags);
  if (dp.gateway) addTags(dp.gateway.tags);
  return keys;
}

function add(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}

function del(m: Map<string, Set<string>>, k: string, v: string): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}

/** Brute force reference: every dataplane in `dataplanes` that `policy` selects, names sorted. */
export function selectedDataplanes(policy: PolicyItem, dataplanes: Iterable<MatchableDataplane>, ctx: SelectionContext = {}): string[] {
  const out: string[] = [];
  for (const dp of dataplanes) if (selects(policy, dp, ctx)) out.push(dp.name);
  return out.sort();
}
