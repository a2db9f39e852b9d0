/**
 * Kuma's merge.Confs (rules/merge/merge.go) over plain JSON values: confs in ascending priority are folded with RFC 7396
 * merge patch, with Kuma's per-field directives. The engine knows no policy: directives come in as options.
 */

type Json = unknown;
type JsonObject = Record<string, Json>;

export interface MergeOptions {
  /**
   * Top-level list fields merged by key (Kuma's `policyMerge:"mergeValuesByKey"`): the lists of all confs are concatenated,
   * then items with a deep-equal `key` field are merged (their `default`s, by these same rules) into one item placed
   * where the key last appears. MeshHTTPRoute: `{ field: 'rules', key: 'matches' }`.
   */
  readonly mergeValuesByKey?: readonly { readonly field: string; readonly key: string; readonly default?: string }[];
  /**
   * A top-level string-list field (Kuma's `policyMerge:"mergeValues"`): confs are grouped per value (a conf with an empty
   * or absent list goes to the `""` group), each group is merged on its own with the field set to that single value, and
   * one conf per group is returned in first-seen order. MeshHTTPRoute: `'hostnames'`.
   */
  readonly mergeValues?: string;
  /** Whether an object key is an append field (concatenated across confs at any object depth). Default: `append[A-Z]...`. */
  readonly isAppendField?: (key: string) => boolean;
}

const APPEND = /^append[A-Z]/;
const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Merges `confs` (ascending priority, later wins) and returns one conf, or one per `mergeValues` group. An empty input
 * returns `[]`. Inputs are not modified; the result shares no objects with them.
 * - objects merge key by key, recursively; `null` deletes a key; any other value (scalars, lists) replaces;
 * - append fields are the concatenation of that field over every conf, in order;
 * - `mergeValuesByKey` / `mergeValues` as documented on `MergeOptions`.
 */
export function mergeConfs(confs: readonly Json[], opts: MergeOptions = {}): Json[] {
  if (confs.length === 0) return [];
  const isAppend = opts.isAppendField ?? ((k: string) => APPEND.test(k));
  return groupByMergeValues(confs, opts.mergeValues).map((group) => {
    let acc: Json = clone(group[0]);
    for (let i = 1; i < group.length; i++) acc = mergePatch(acc, group[i]);
    acc = pruneNulls(acc);
    if (isObject(acc)) {
      applyAppends(acc, group, isAppend, opts);
      for (const d of opts.mergeValuesByKey ?? []) {
        const list = acc[d.field];
        if (Array.isArray(list)) acc[d.field] = mergeByKey(list, d.key, d.default ?? 'default', opts);
      }
    }
    return acc;
  });
}

/** RFC 7396 MergePatch(target, patch); returns a new value. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function groupByMergeValues(confs: readonly Json[], field: string | undefined): Json[][] {
  if (!field) return [[...confs]];
  const groups = new Map<string, Json[]>();
  for (const c of confs) {
    const values = isObject(c) && Array.isArray(c[field]) && (c[field] as Json[]).length > 0 ? (c[field] as Json[]).map(String) : [''];
    for (const v of values) {
      let g = groups.get(v);
      if (!g) groups.set(v, (g = []));
      g.push(v === '' || !isObject(c) ? c : { ...c, [field]: [v] });
    }
  }
  return [...groups.values()];
}

const isListField = (k: string, isAppend: (k: string) => boolean, opts: MergeOptions, top: boolean): boolean =>
  isAppend(k) || (top && (opts.mergeValuesByKey ?? []).some((d) => d.field === k));

/**
 * Kuma clears every append list of the merged conf, then appends each conf's list in order (clearAppendSlices +
 * appendSlices). A list is set wherever its parent object exists in the merged conf, even if the merge patch removed
 * the list itself (a later conf's explicit null), and only if at least one conf has a list at that path.
 */
function applyAppends(acc: JsonObject, confs: readonly Json[], isAppend: (k: string) => boolean, opts: MergeOptions): void {
  const paths = new Map<string, string[]>();
  const collect = (v: Json, path: string[]) => {
    if (!isObject(v)) return;
    for (const [k, x] of Object.entries(v)) {
      const p = [...path, k];
      if (Array.isArray(x) && isListField(k, isAppend, opts, path.length === 0)) paths.set(JSON.stringify(p), p);
      else if (isObject(x)) collect(x, p);
    }
  };
  for (const c of confs) collect(c, []);
  for (const p of paths.values()) {
    const parent = p.slice(0, -1).reduce<Json>((o, k) => (isObject(o) ? o[k] : undefined), acc);
    if (!isObject(parent)) continue;
    const all: Json[] = [];
    for (const c of confs) {
      const list = p.reduce<Json>((o, k) => (isObject(o) ? o[k] : undefined), c);
      if (Array.isArray(list)) all.push(...list.map(clone));
    }
    parent[p[p.length - 1]!] = all;
  }
}

function mergeByKey(items: readonly Json[], key: string, def: string, opts: MergeOptions): Json[] {
  const acc: { key: Json; defaults: Json[]; skip: boolean }[] = [];
  const byJson = new Map<string, number[]>();
  for (const item of items) {
    const k = isObject(item) ? (item[key] ?? null) : null;
    const d = isObject(item) ? item[def] : undefined;
    const bucket = stableJson(k);
    let defaults: Json[] = [d];
    const prior = byJson.get(bucket) ?? [];
    for (const i of prior) {
      const a = acc[i];
      if (a && !a.skip) {
        defaults = [...a.defaults, ...defaults];
        a.skip = true;
      }
    }
    byJson.set(bucket, [acc.length]);
    acc.push({ key: k, defaults, skip: false });
  }
  const out: Json[] = [];
  for (const a of acc) {
    if (a.skip) continue;
    const present = a.defaults.filter((d) => d !== undefined);
    const merged = present.length > 0 ? mergeConfs(present, { ...opts, mergeValues: undefined, mergeValuesByKey: undefined }) : [{}];
    for (const m of merged) out.push(a.key === null ? { [def]: m } : { [key]: clone(a.key), [def]: m });
  }
  return out;
}

/** JSON with object keys sorted, so deep-equal values give equal strings. */
function stableJson(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

function pruneNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(pruneNulls);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = pruneNulls(x);
  return out;
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}
