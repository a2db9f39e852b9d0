import type { JsonObject } from '../../resources/validation.ts';
import { fractionalPercent } from '../core/percentage.ts';
import type { Split } from '../core/split.ts';
import type { HeaderModifier, Match, PathRewrite } from './conf.ts';
import type { RouteSpec } from './routes.ts';

/**
 * Envoy routes of a MeshHTTPRoute destination, as Kuma's RoutesConfigurer builds them
 * (meshhttproute/xds/configurer.go, match.go, filters/*.go). One RouteSpec may give two Envoy
 * routes: a PathPrefix other than `/` matches the path itself and everything below it.
 */

/** The request timeout every outbound route carries today (MeshTimeout's default, as the default route has it). */
const ROUTE_TIMEOUT = { seconds: 15 };

const regex = (value: string): JsonObject => ({ google_re2: {}, regex: value });

interface EnvoyMatch {
  readonly match: JsonObject;
  readonly prefixMatch: boolean;
}

function pathMatches(m: Match): JsonObject[] {
  const path = m.path;
  if (!path) return [{ prefix: '/' }];
  switch (path.type) {
    case 'Exact':
      return [{ path: path.value }];
    case 'PathPrefix': {
      if (path.value === '/') return [{ prefix: '/' }];
      const trimmed = path.value.replace(/\/$/, '');
      return [{ path: trimmed }, { prefix: `${trimmed}/` }];
    }
    case 'RegularExpression':
      return [{ safe_regex: regex(path.value) }];
  }
}

function headerMatchers(m: Match): JsonObject[] {
  const out: JsonObject[] = [];
  if (m.method) out.push({ name: ':method', string_match: { exact: m.method } });
  const seen = new Set<string>();
  for (const h of m.headers ?? []) {
    if (seen.has(h.name)) continue;
    seen.add(h.name);
    const value = h.value ?? '';
    switch (h.type ?? 'Exact') {
      case 'Exact':
        out.push({ name: h.name, string_match: { exact: value } });
        break;
      case 'Present':
        out.push({ name: h.name, present_match: true });
        break;
      case 'RegularExpression':
        out.push({ name: h.name, string_match: { safe_regex: regex(value) } });
        break;
      case 'Absent':
        out.push({ name: h.name, present_match: false });
        break;
      case 'Prefix':
        // Envoy rejects an empty prefix: an empty one means "present".
        out.push(value !== '' ? { name: h.name, string_match: { prefix: value } } : { name: h.name, present_match: true });
        break;
    }
  }
  return out;
}

function queryMatchers(m: Match): JsonObject[] {
  const seen = new Set<string>();
  const out: JsonObject[] = [];
  for (const q of m.queryParams ?? []) {
    if (seen.has(q.name)) continue;
    seen.add(q.name);
    out.push({ name: q.name, string_match: q.type === 'Exact' ? { exact: q.value } : { safe_regex: regex(q.value) } });
  }
  return out;
}

function envoyMatches(m: Match): EnvoyMatch[] {
  const headers = headerMatchers(m);
  const query = queryMatchers(m);
  return pathMatches(m).map((p) => ({
    match: { ...p, ...(query.length ? { query_parameters: query } : {}), ...(headers.length ? { headers } : {}) },
    prefixMatch: m.path?.type === 'PathPrefix',
  }));
}

/** Go's http.CanonicalHeaderKey: `x-custom-header` -> `X-Custom-Header`; keys with other than token characters stay as they are. */
export function canonicalHeaderKey(key: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) return key;
  return key.toLowerCase().replace(/(^|-)([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase());
}

function headerOptions(mod: HeaderModifier): { add: JsonObject[]; remove: string[] } {
  const add: JsonObject[] = [];
  for (const set of mod.set ?? []) {
    set.value.split(',').forEach((value, i) => add.push({ append: { value: i > 0 }, header: { key: canonicalHeaderKey(set.name), value } }));
  }
  for (const a of mod.add ?? []) {
    for (const value of a.value.split(',')) add.push({ append: { value: true }, header: { key: canonicalHeaderKey(a.name), value } });
  }
  return { add, remove: [...(mod.remove ?? [])] };
}

const regexRewrite = (substitution: string): JsonObject => ({ pattern: regex('.*'), substitution });

/** ReplacePrefixMatch on the exact half of a prefix pair rewrites the whole path; on the prefix half, the prefix. */
function pathRewrite(path: PathRewrite, em: EnvoyMatch): JsonObject {
  if (path.type === 'ReplaceFullPath') return { regex_rewrite: regexRewrite(path.replaceFullPath ?? '') };
  if (!em.prefixMatch) return {};
  if (typeof em.match.path === 'string' && em.match.path !== '') return { regex_rewrite: regexRewrite(path.replacePrefixMatch ?? '') };
  if (typeof em.match.prefix === 'string' && em.match.prefix !== '') return { prefix_rewrite: path.replacePrefixMatch ?? '' };
  return {};
}

const REDIRECT_CODES: Record<number, string | undefined> = { 301: undefined, 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' };

export function clusterSpecifier(splits: readonly Split[]): JsonObject {
  return splits.length === 1
    ? { cluster: splits[0]!.cluster }
    : { weighted_clusters: { clusters: splits.map((s) => ({ name: s.cluster, weight: { value: s.weight } })) } };
}

/** The Envoy routes of one RouteSpec, for an Envoy proxy (every filter applies). */
export function envoyRoutes(spec: RouteSpec): JsonObject[] {
  return envoyMatches(spec.match).map((em) => {
    const action: JsonObject = { ...clusterSpecifier(spec.splits), timeout: ROUTE_TIMEOUT };
    const route: JsonObject = { name: spec.name, match: em.match, route: action };
    spec.filters.forEach((f, i) => {
      switch (f.type) {
        case 'RequestHeaderModifier': {
          if (!f.requestHeaderModifier) break;
          const { add, remove } = headerOptions(f.requestHeaderModifier);
          if (add.length) route.request_headers_to_add = [...((route.request_headers_to_add as JsonObject[] | undefined) ?? []), ...add];
          if (remove.length) route.request_headers_to_remove = [...((route.request_headers_to_remove as string[] | undefined) ?? []), ...remove];
          break;
        }
        case 'ResponseHeaderModifier': {
          if (!f.responseHeaderModifier) break;
          const { add, remove } = headerOptions(f.responseHeaderModifier);
          if (add.length) route.response_headers_to_add = [...((route.response_headers_to_add as JsonObject[] | undefined) ?? []), ...add];
          if (remove.length) route.response_headers_to_remove = [...((route.response_headers_to_remove as string[] | undefined) ?? []), ...remove];
          break;
        }
        case 'RequestRedirect': {
          const r = f.requestRedirect;
          if (!r) break;
          const code = REDIRECT_CODES[r.statusCode ?? 301];
          route.redirect = {
            ...(r.hostname !== undefined ? { host_redirect: r.hostname } : {}),
            ...(r.port !== undefined ? { port_redirect: r.port } : {}),
            ...(r.scheme !== undefined ? { scheme_redirect: r.scheme } : {}),
            ...(r.path ? pathRewrite(r.path, em) : {}),
            ...(code ? { response_code: code } : {}),
          };
          delete route.route;
          break;
        }
        case 'URLRewrite': {
          const r = f.urlRewrite;
          const act = route.route as JsonObject | undefined;
          if (!r || !act) break;
          if (r.hostname !== undefined) act.host_rewrite_literal = r.hostname;
          if (r.path) Object.assign(act, pathRewrite(r.path, em));
          break;
        }
        case 'RequestMirror': {
          const act = route.route as JsonObject | undefined;
          const cluster = spec.mirrors[i];
          if (!act || !f.requestMirror || cluster === undefined) break;
          const pct = f.requestMirror.percentage;
          act.request_mirror_policies = [
            ...((act.request_mirror_policies as JsonObject[] | undefined) ?? []),
            { cluster, ...(pct !== undefined ? { runtime_fraction: { default_value: fractionalPercent(pct) } } : {}) },
          ];
          break;
        }
      }
    });
    return route;
  });
}

/**
 * The routes of one RouteSpec for a proxyless gRPC client: matches and weighted clusters only.
 * gRPC NACKs a route whose action is not `route` (a redirect) and has no query string, so such
 * routes are left out; header modifiers, rewrites and mirrors are not gRPC features and are dropped.
 */
export function grpcRoutes(spec: RouteSpec): JsonObject[] {
  if (spec.filters.some((f) => f.type === 'RequestRedirect')) return [];
  if (spec.match.queryParams?.length) return [];
  return envoyMatches(spec.match).map((em) => ({ name: spec.name, match: em.match, route: clusterSpecifier(spec.splits) }));
}
