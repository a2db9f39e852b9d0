import { createHash } from 'node:crypto';
import type { MeshState } from '../../mesh-view/mesh-view.ts';
import { fractionalPercent } from '../core/percentage.ts';
import { makeSplit, splitClusterName, type BackendRef, type Split, type SplitCluster } from '../core/split.ts';
import type { Filter, Match, MeshHTTPRouteConf, PathMatch } from './conf.ts';

/**
 * From a destination's merged MeshHTTPRoute configuration to the routes Kuma generates for it
 * (plugin/v1alpha1/listeners.go prepareRoutes, api/v1alpha1/compare.go SortRules): one route per
 * match, most specific first (Gateway API precedence, stable), each named after a digest of its
 * rule's matches, then the catch-all route to the service itself unless a rule is exactly that.
 */

/** What the plugin applies for one route: everything resolved, so `apply` reads nothing else. */
export interface RouteSpec {
  /** Kuma's route name: `HashMatches(rule.matches)`. */
  readonly name: string;
  readonly match: Match;
  readonly filters: readonly Filter[];
  readonly splits: readonly Split[];
  /** Cluster of each RequestMirror filter's backendRef, by filter index. */
  readonly mirrors: Readonly<Record<number, string>>;
}

export interface PreparedRoutes {
  readonly routes: RouteSpec[];
  /** Clusters the splits and mirrors send to (the parts a proxy may lack). */
  readonly clusters: SplitCluster[];
}

function validPercentage(p: number | string | undefined): boolean {
  try {
    if (p !== undefined) fractionalPercent(p);
    return true;
  } catch {
    return false;
  }
}

const CATCH_ALL: Match = { path: { value: '/', type: 'PathPrefix' } };

/** Go's encoding/json as Kuma hashes it: struct field order, omitempty, HTML-safe escaping. */
function goJson(matches: readonly Match[]): string {
  const ordered = matches.map((m) => ({
    ...(m.path ? { path: { value: m.path.value, type: m.path.type } } : {}),
    ...(m.method ? { method: m.method } : {}),
    ...(m.queryParams?.length ? { queryParams: m.queryParams.map((q) => ({ type: q.type, name: q.name, value: q.value })) } : {}),
    ...(m.headers?.length ? { headers: m.headers.map((h) => ({ ...(h.type ? { type: h.type } : {}), name: h.name, ...(h.value ? { value: h.value } : {}) })) } : {}),
  }));
  return JSON.stringify(ordered).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Kuma's `HashMatches`: base64 of the SHA-256 of the matches' JSON. */
export const hashMatches = (matches: readonly Match[]): string => createHash('sha256').update(goJson(matches)).digest('base64');

/** Kuma's comparePath: Exact < PathPrefix < RegularExpression, longer prefix/regex first, no path last. */
function comparePath(a: PathMatch | undefined, b: PathMatch | undefined): number {
  if (a && !b) return -1;
  if (!a && b) return 1;
  if (!a || !b) return 0;
  if (a.type === b.type) return a.type === 'Exact' ? 0 : b.value.length - a.value.length;
  const rank = { Exact: 0, PathPrefix: 1, RegularExpression: 2 } as const;
  return rank[a.type] - rank[b.type];
}

/** Kuma's CompareMatch: path, then method present first, then more headers, then more query params (Kuma's "flipped" comparisons). */
export function compareMatch(a: Match, b: Match): number {
  return (
    comparePath(a.path, b.path) ||
    (a.method && !b.method ? -1 : !a.method && b.method ? 1 : 0) ||
    (b.headers?.length ?? 0) - (a.headers?.length ?? 0) ||
    (b.queryParams?.length ?? 0) - (a.queryParams?.length ?? 0)
  );
}

const sameMatches = (a: readonly Match[], b: readonly Match[]): boolean => goJson(a) === goJson(b);

/** The routes of `service` under `conf`, or `undefined` when `conf` has no rules (the default route stays). */
export function prepareRoutes(view: MeshState, service: string, conf: MeshHTTPRouteConf): PreparedRoutes | undefined {
  const rules = conf.rules ?? [];
  if (rules.length === 0) return undefined;
  const keyed = rules.flatMap((rule) => rule.matches.map((match) => ({ match, rule })));
  keyed.sort((x, y) => compareMatch(x.match, y.match)); // Array.prototype.sort is stable
  if (!rules.some((r) => sameMatches(r.matches, [CATCH_ALL]))) keyed.push({ match: CATCH_ALL, rule: { matches: [CATCH_ALL], default: {} } });
  const self: BackendRef[] = [{ kind: 'MeshService', name: service, weight: 100 }];
  const routes: RouteSpec[] = [];
  const clusters: SplitCluster[] = [];
  const addClusters = (cs: readonly SplitCluster[]) => cs.forEach((c) => clusters.some((x) => x.cluster === c.cluster) || clusters.push(c));
  for (const { match, rule } of keyed) {
    // A rule without backendRefs routes to the destination itself.
    const split = makeSplit(view, rule.default.backendRefs ?? self, 'http');
    // Kuma drops a route whose destinations it cannot route HTTP to (unknown service, TCP service).
    if (!split || split.splits.length === 0) continue;
    addClusters(split.clusters);
    const filters = rule.default.filters ?? [];
    const mirrors: Record<number, string> = {};
    filters.forEach((f, i) => {
      if (f.type !== 'RequestMirror' || !f.requestMirror) return;
      const ref = f.requestMirror.backendRef;
      const mirror = makeSplit(view, [{ ...ref, weight: 1 }], 'http');
      // A mirror Kuma cannot build a cluster for is left out (Kuma fails the whole proxy), and so
      // is one whose percentage validation would have rejected.
      if (!mirror || mirror.clusters.length === 0 || !validPercentage(f.requestMirror.percentage)) return;
      addClusters(mirror.clusters);
      mirrors[i] = splitClusterName(ref.name ?? '', ref.kind === 'MeshServiceSubset' ? (ref.tags ?? {}) : {});
    });
    routes.push({ name: hashMatches(rule.matches), match, filters, splits: split.splits, mirrors });
  }
  return { routes, clusters };
}
