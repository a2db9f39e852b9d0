import type { Resource } from '../../libs/resources/resource.ts';
import { isObject } from '../../libs/resources/validation.ts';
import { ApiError } from '../../libs/platform/api-errors.ts';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

type Query = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
const all = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const LABEL_FILTER = 'filter[labels.';
export const STATUS_FILTER = 'filter[status]';

/** Kuma's mesh.Status values, as `filter[status]` names them (case-insensitively). */
export const STATUSES = ['Online', 'Offline', 'Partially degraded'] as const;
export type Status = (typeof STATUSES)[number];

/**
 * `filter[status]` (Kuma's filters.Status): only the overview endpoints know a status, so a plain
 * list answers 400; an unknown status is a violation at `<route>.filter[status]`. An empty value
 * filters nothing.
 */
export function statusFilter(query: Query, route: string, overview: boolean): Status | undefined {
  const value = first(query[STATUS_FILTER]);
  if (value === undefined || value === '') return undefined;
  if (!overview) throw new ApiError(400, 'Bad Request', 'bad request: filtering by status is only supported on the _overview endpoint');
  const status = STATUSES.find((s) => s.toLowerCase() === value.toLowerCase());
  if (status === undefined) {
    throw new ApiError(400, 'Could not retrieve resources', 'Resource is not valid', [
      { field: `${route}.${STATUS_FILTER}`, reason: `must be one of ${STATUSES.join(', ')}` },
    ]);
  }
  return status;
}
const GATEWAY_MODES = ['true', 'false', 'builtin', 'delegated'];

/**
 * The `filter[labels.<key>]=<value>` parameters, validated as Kuma's filters.labelFilter does:
 * only label filters (a typo such as `filter[labelds.x]` is not silently ignored), no operators
 * (`filter[labels.x][eq]`) or unclosed brackets, each key once. Violations are reported at
 * `<route>.filter[...]`, `route` being Kuma's route template (`/meshes/{mesh}/dataplanes`).
 */
export function labelFilters(query: Query, route: string): [string, string][] {
  const violations: { field: string; reason: string }[] = [];
  const filters: [string, string][] = [];
  for (const [k, v] of Object.entries(query)) {
    // The status filter is the overview endpoints' own (statusFilter).
    if (!k.startsWith('filter[') || k === STATUS_FILTER) continue;
    const field = `${route}.${k}`;
    if (!k.startsWith(LABEL_FILTER)) violations.push({ field, reason: 'filters are only supported on labels and status' });
    else if (k.indexOf(']') !== k.length - 1) violations.push({ field, reason: 'advanced filters are not supported' });
    else if (Array.isArray(v) && v.length > 1) violations.push({ field, reason: 'duplicate filter parameter' });
    else filters.push([k.slice(LABEL_FILTER.length, -1), first(v) ?? '']);
  }
  if (violations.length > 0) throw new ApiError(400, 'Could not retrieve resources', 'Resource is not valid', violations);
  return filters;
}

/**
 * Kuma's list filters: `name` (substring), `filter[labels.<key>]` (exact), and for Dataplanes
 * `tag=k:v`, `gateway`; `filter[status]` where `status` tells a resource's (overviews). `route`
 * names the endpoint in errors (see labelFilters).
 */
export function filterResources(items: Resource[], query: Query, route: string, status?: (r: Resource) => Status): Resource[] {
  const name = first(query['name']);
  const labels = labelFilters(query, route);
  const wanted = statusFilter(query, route, status !== undefined);
  const tags = all(query['tag']).map((t) => {
    const i = t.indexOf(':');
    return i < 0 ? ([t, undefined] as const) : ([t.slice(0, i), t.slice(i + 1)] as const);
  });
  const gateway = first(query['gateway'])?.toLowerCase() || undefined;
  // An unknown mode must not silently match everything (Kuma's gatewayModeFilterFromParameter).
  if (gateway !== undefined && !GATEWAY_MODES.includes(gateway)) {
    throw new ApiError(400, 'Could not retrieve resources', 'Resource is not valid', [
      { field: `${route}.gateway`, reason: `should use \`true\`, \`false\`, \`builtin\` or \`delegated\` instead of ${gateway}` },
    ]);
  }
  return items.filter((r) => {
    if (name !== undefined && !r.meta.name.includes(name)) return false;
    if (wanted !== undefined && status!(r) !== wanted) return false;
    for (const [k, v] of labels) if (r.meta.labels[k] !== v) return false;
    if (tags.length > 0 || gateway !== undefined) {
      const net = r.spec['networking'];
      if (!isObject(net)) return false;
      const gw = isObject(net['gateway']) ? net['gateway'] : undefined;
      if (gateway !== undefined) {
        const type = gw ? (gw['type'] === 'BUILTIN' ? 'builtin' : 'delegated') : undefined;
        if (gateway === 'true' && !gw) return false;
        if (gateway === 'false' && gw) return false;
        if ((gateway === 'builtin' || gateway === 'delegated') && type !== gateway) return false;
      }
      const tagSets = [...(Array.isArray(net['inbound']) ? net['inbound'] : []), gw]
        .filter(isObject)
        .map((i) => (isObject(i['tags']) ? i['tags'] : {}));
      for (const [k, v] of tags) {
        if (!tagSets.some((t) => k in t && (v === undefined || v === '*' || t[k] === v))) return false;
      }
    }
    return true;
  });
}

export interface Page {
  readonly size: number;
  readonly offset: number;
}

/** Kuma's pagination parameters; the errors match pkg/api-server/pagination.go. */
export function parsePage(query: Query): Page {
  const rawSize = first(query['size']);
  const rawOffset = first(query['offset']);
  let size = DEFAULT_PAGE_SIZE;
  if (rawSize !== undefined && rawSize !== '') {
    if (!/^-?\d+$/.test(rawSize)) {
      throw new ApiError(400, 'Could not retrieve resources', 'Invalid page size', [{ field: 'size', reason: 'invalid format' }]);
    }
    size = Number(rawSize);
    if (size > MAX_PAGE_SIZE) {
      throw new ApiError(400, 'Could not retrieve resources', 'Invalid page size', [
        { field: 'size', reason: `invalid page size of ${size}. Maximum page size is ${MAX_PAGE_SIZE}` },
      ]);
    }
    if (size < 0) {
      throw new ApiError(400, 'Could not retrieve resources', 'Invalid page size', [{ field: 'size', reason: 'must not be negative' }]);
    }
  }
  let offset = 0;
  if (rawOffset !== undefined && rawOffset !== '') {
    // Kuma's store parses the offset with strconv.Atoi; its error is the detail (crud table list_mesh_00).
    if (!/^-?\d+$/.test(rawOffset)) {
      throw new ApiError(400, 'Could not retrieve resources', `invalid: invalid offset: strconv.Atoi: parsing ${JSON.stringify(rawOffset)}: invalid syntax`);
    }
    if (!/^\d+$/.test(rawOffset)) {
      throw new ApiError(400, 'Could not retrieve resources', 'Invalid offset', [{ field: 'offset', reason: 'must not be negative' }]);
    }
    offset = Number(rawOffset);
  }
  return { size, offset };
}

/** One page, with Kuma's absolute `next` link (same path and query, `offset` moved on), or null on the last page. */
export function paginate<T>(
  items: T[],
  page: Page,
  request: { protocol: string; host: string; path: string; query: Query },
): { total: number; items: T[]; next: string | null } {
  const total = items.length;
  if (page.size === 0) return { total, items, next: null };
  const slice = items.slice(page.offset, page.offset + page.size);
  const nextOffset = page.offset + page.size;
  if (nextOffset >= total) return { total, items: slice, next: null };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(request.query)) for (const one of all(v)) params.append(k, one);
  params.set('offset', String(nextOffset));
  params.sort();
  return { total, items: slice, next: `${request.protocol}://${request.host}${request.path}?${params.toString()}` };
}
