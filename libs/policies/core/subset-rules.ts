/**
 * Kuma's legacy subset rules (core/rules/rules.go BuildRules + subsetutils), still what Kuma 2.14 uses for `from[]` of
 * MeshTrafficPermission / MeshFaultInjection and for "to" towards `kuma.io/service` outbounds:
 * 1. every entry's targetRef becomes a subset of tags (Mesh = {}, MeshSubset = tags, MeshService = kuma.io/service,
 *    MeshServiceSubset = both);
 * 2. subsets that can hold a common element are connected; for each maximal clique (Bron–Kerbosch), every combination
 *    of its tags with negations is a candidate subset (per key: one of its values, or none of them);
 * 3. a candidate's conf is the merge, in entry order, of the entries whose subset covers it;
 * 4. rules are stably sorted by number of positive tags, most first; `computeSubsetRule` returns the first rule whose
 *    subset contains an element (a client's or destination's tags).
 * Without negations and with at most one distinct tag key, step 2 is skipped (Kuma's shortcut, same result).
 */
import { mergeConfs, type MergeOptions } from './merge.ts';
import type { RuleOrigin } from './rules-common.ts';
import type { TargetRef } from './target-ref.ts';

export interface SubsetTag {
  readonly key: string;
  readonly value: string;
  readonly not: boolean;
}
export type Subset = readonly SubsetTag[];

export interface SubsetItem {
  /** Positive tags of the entry's targetRef. */
  readonly subset: Subset;
  readonly conf: unknown;
  readonly origin: RuleOrigin;
}

export interface SubsetRule {
  readonly subset: Subset;
  /** `mergeConfs` result: one conf, or one per `mergeValues` group. */
  readonly conf: readonly unknown[];
  readonly origin: readonly RuleOrigin[];
}

/** Tags of a record as a positive subset, keys sorted (Kuma's NewSubset). */
export function subsetOfTags(tags: Readonly<Record<string, string>>): SubsetTag[] {
  return Object.keys(tags)
    .sort()
    .map((key) => ({ key, value: tags[key]!, not: false }));
}

/** Kuma's asSubset: a targetRef as a positive subset, or undefined for kinds it cannot represent as tags. */
export function subsetOfTargetRef(ref: TargetRef): Subset | undefined {
  switch (ref.kind) {
    case 'Mesh':
      return [];
    case 'MeshSubset':
      return subsetOfTags(ref.tags ?? {});
    case 'MeshService':
      return ref.name ? subsetOfTags({ 'kuma.io/service': ref.name }) : undefined;
    case 'MeshServiceSubset':
      return ref.name ? subsetOfTags({ ...ref.tags, 'kuma.io/service': ref.name }) : undefined;
    default:
      return undefined;
  }
}

/** Kuma's Subset.IsSubset: `other` lies inside `ss` (the empty subset covers everything). */
export function covers(ss: Subset, other: Subset): boolean {
  for (const tag of ss) {
    const same = other.filter((t) => t.key === tag.key);
    if (same.length === 0) return false;
    for (const o of same) if (!tagCovers(tag, o)) return false;
  }
  return true;
}

function tagCovers(t1: SubsetTag, t2: SubsetTag): boolean {
  if (t1.not === t2.not) return t1.value === t2.value;
  if (t1.not) return t1.value !== t2.value;
  return false;
}

/** Kuma's Subset.Intersect over positive tags: no key with two different positive values. */
export function intersects(a: Subset, b: Subset): boolean {
  if (a.length === 0 || b.length === 0) return true;
  for (const t of a) {
    if (t.not) continue;
    for (const o of b) if (!o.not && o.key === t.key && o.value !== t.value) return false;
  }
  return true;
}

/** Kuma's Subset.ContainsElement. */
export function containsElement(ss: Subset, element: Readonly<Record<string, string>>): boolean {
  if (ss.length === 0) return true;
  if (Object.keys(element).length === 0) return false;
  let overlap = false;
  for (const tag of ss) {
    const v = element[tag.key];
    if (v !== undefined) {
      overlap = true;
      if ((v === tag.value) === tag.not) return false;
    } else if (!tag.not) return false;
  }
  return overlap || ss.every((t) => t.not);
}

const tagId = (t: SubsetTag) => `${t.key}\u0000${t.value}\u0000${t.not ? 1 : 0}`;
const numPositive = (ss: Subset) => ss.filter((t) => !t.not).length;

/** Maximal cliques of an undirected graph (Bron–Kerbosch with pivoting). */
function maximalCliques(n: number, adj: readonly Set<number>[]): number[][] {
  const out: number[][] = [];
  const bk = (r: number[], p: Set<number>, x: Set<number>) => {
    if (p.size === 0 && x.size === 0) {
      out.push(r);
      return;
    }
    let pivot = -1;
    let best = -1;
    for (const u of [...p, ...x]) {
      let c = 0;
      for (const v of p) if (adj[u]!.has(v)) c++;
      if (c > best) {
        best = c;
        pivot = u;
      }
    }
    for (const v of [...p]) {
      if (pivot >= 0 && adj[pivot]!.has(v)) continue;
      bk([...r, v], new Set([...p].filter((w) => adj[v]!.has(w))), new Set([...x].filter((w) => adj[v]!.has(w))));
      p.delete(v);
      x.add(v);
    }
  };
  bk([], new Set(Array.from({ length: n }, (_, i) => i)), new Set());
  return out;
}

function connectedComponents(n: number, adj: readonly Set<number>[]): number[][] {
  const seen = new Set<number>();
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (seen.has(i)) continue;
    const comp: number[] = [];
    const stack = [i];
    seen.add(i);
    while (stack.length > 0) {
      const v = stack.pop()!;
      comp.push(v);
      for (const w of adj[v]!) {
        if (seen.has(w)) continue;
        seen.add(w);
        stack.push(w);
      }
    }
    out.push(comp);
  }
  return out;
}

/**
 * Kuma's SubsetIter: a mixed-radix counter with one digit per tag key (keys and values in first-seen order). Digit 0
 * means the key's last value, digit d < n means value n-1-d, digit n means "none of the values" (all negated). The
 * counter is incremented before each output, so the all-zero state (every key positive on its last value) comes last.
 */
export function* subsetCombinations(tags: readonly SubsetTag[]): Generator<Subset> {
  const dims: { key: string; vals: string[] }[] = [];
  const byKey = new Map<string, { key: string; vals: string[] }>();
  for (const t of tags) {
    let d = byKey.get(t.key);
    if (!d) {
      d = { key: t.key, vals: [] };
      byKey.set(t.key, d);
      dims.push(d);
    }
    if (!d.vals.includes(t.value)) d.vals.push(t.value);
  }
  const idx = dims.map(() => 0);
  const current = (): Subset =>
    dims.flatMap<SubsetTag>((d, i) => (idx[i] === d.vals.length ? d.vals.map((value) => ({ key: d.key, value, not: true })) : [{ key: d.key, value: d.vals[d.vals.length - idx[i]! - 1]!, not: false }]));
  for (;;) {
    let advanced = false;
    for (let i = 0; i < idx.length; i++) {
      idx[i]!++;
      if (idx[i]! < dims[i]!.vals.length + 1) {
        advanced = true;
        break;
      }
      idx[i] = 0;
    }
    yield current();
    if (!advanced) return;
  }
}

/** Builds Kuma's legacy rules from entries in ascending priority order. */
export function buildSubsetRules(
  items: readonly SubsetItem[],
  opts: MergeOptions & {
    readonly withNegations: boolean;
    /** Group by maximal cliques (Kuma's default) or by connected components (Kuma's older, equivalent grouping; for tests). */
    readonly grouping?: 'cliques' | 'components';
  },
): SubsetRule[] {
  if (items.length === 0) return [];
  const ruleFor = (ss: Subset): SubsetRule | undefined => {
    const relevant = items.filter((i) => covers(i.subset, ss) && i.conf !== undefined);
    if (relevant.length === 0) return undefined;
    return { subset: ss, conf: mergeConfs(relevant.map((i) => i.conf), opts), origin: relevant.map((i) => i.origin) };
  };
  const rules: SubsetRule[] = [];
  const keys = new Set(items.flatMap((i) => i.subset.map((t) => t.key)));
  if (!opts.withNegations && keys.size <= 1) {
    const seen = new Set<string>();
    for (const i of items) {
      const id = i.subset.map(tagId).sort().join('|');
      if (seen.has(id)) continue;
      seen.add(id);
      const r = ruleFor(i.subset);
      if (r) rules.push(r);
    }
  } else {
    const adj = items.map(() => new Set<number>());
    items.forEach((a, i) =>
      items.forEach((b, j) => {
        if (i !== j && intersects(a.subset, b.subset)) adj[i]!.add(j);
      }),
    );
    const groups = opts.grouping === 'components' ? connectedComponents(items.length, adj) : maximalCliques(items.length, adj);
    const cliques = groups.map((c) => [...c].sort((x, y) => x - y));
    cliques.sort((a, b) => {
      const sa = a.join(':');
      const sb = b.join(':');
      return sa > sb ? -1 : sa < sb ? 1 : 0;
    });
    for (const clique of cliques) {
      const tagSet = new Map<string, SubsetTag>();
      for (const n of clique) for (const t of items[n]!.subset) tagSet.set(tagId(t), t);
      const tags = [...tagSet.values()].sort((a, b) => (a.key !== b.key ? (a.key < b.key ? -1 : 1) : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
      for (const ss of subsetCombinations(tags)) {
        const r = ruleFor(ss);
        if (r) rules.push(r);
      }
    }
  }
  return rules.map((r, i) => ({ r, i })).sort((a, b) => numPositive(b.r.subset) - numPositive(a.r.subset) || a.i - b.i).map((x) => x.r);
}

/** Kuma's Rules.Compute: the first rule whose subset contains `element`, or undefined. */
export function computeSubsetRule(rules: readonly SubsetRule[], element: Readonly<Record<string, string>>): SubsetRule | undefined {
  return rules.find((r) => containsElement(r.subset, element));
}
