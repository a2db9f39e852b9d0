import jsonPatch from 'fast-json-patch';
import type protobuf from 'protobufjs';
import { parse } from 'yaml';
import type { JsonObject } from '../../resources/validation.ts';
import type { Draft } from '../../xds/generate/part.ts';
import { messageType, TypeUrl } from '../../xds/protos.ts';
import type { JsonPatchOp, Modification } from './api.ts';
import { fromProtoJson, mergeMessage, toProtoJson } from './proto-json.ts';

/** A modification that cannot be applied (bad value, failing JSON patch): becomes a PluginError. */
export class ModificationError extends Error {
  override readonly name = 'ModificationError';
}

/** A draft with what Kuma's matches read: its origin name (Kuma's) and its listener tags. */
export interface Target {
  readonly draft: Draft;
  readonly origin: string;
  readonly tags: Readonly<Record<string, string>>;
}

const HCM_NAME = 'envoy.filters.network.http_connection_manager';
const T = {
  Cluster: () => messageType('envoy.config.cluster.v3.Cluster'),
  Listener: () => messageType('envoy.config.listener.v3.Listener'),
  Filter: () => messageType('envoy.config.listener.v3.Filter'),
  HttpFilter: () => messageType('envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter'),
  VirtualHost: () => messageType('envoy.config.route.v3.VirtualHost'),
  Any: () => messageType('google.protobuf.Any'),
};

type Mod = NonNullable<Modification['cluster']> | NonNullable<Modification['networkFilter']>;
type Match = Record<string, unknown> | undefined;

const isObj = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (m: Match, k: string): string | undefined => (typeof m?.[k] === 'string' ? (m[k] as string) : undefined);

/** A modification's `value` (YAML of the Envoy message) in draft form. */
function valueOf(mod: Mod, type: protobuf.Type): JsonObject {
  if (mod.value === undefined) return {};
  let raw: unknown;
  try {
    raw = parse(mod.value);
  } catch (err) {
    throw new ModificationError(`value is not valid YAML: ${(err as Error).message}`);
  }
  try {
    return fromProtoJson(type, raw ?? {}) as JsonObject;
  } catch (err) {
    throw new ModificationError(`value is not a valid ${type.fullName.slice(1)}: ${(err as Error).message}`);
  }
}

/** Kuma's MergeJsonPatch: the RFC 6902 patch applied to the message's proto3 JSON. */
function applyJsonPatch(type: protobuf.Type, body: JsonObject, ops: readonly JsonPatchOp[]): JsonObject {
  const doc = toProtoJson(type, body);
  let patched: unknown;
  try {
    patched = jsonPatch.applyPatch(doc, ops as jsonPatch.Operation[], true, false).newDocument;
  } catch (err) {
    throw new ModificationError(`JSON patch failed: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    return fromProtoJson(type, patched) as JsonObject;
  } catch (err) {
    throw new ModificationError(`JSON patch result is not a valid ${type.fullName.slice(1)}: ${(err as Error).message}`);
  }
}

/** Patch (merge `value`, or the JSON patches) of one message in place. */
function patchBody(type: protobuf.Type, body: JsonObject, mod: Mod, value: JsonObject): JsonObject {
  return mod.jsonPatches && mod.jsonPatches.length > 0 ? applyJsonPatch(type, body, mod.jsonPatches) : mergeMessage(type, structuredClone(body), value);
}

function tagsMatch(selector: unknown, tags: Readonly<Record<string, string>>): boolean {
  if (!isObj(selector)) return true;
  return Object.entries(selector).every(([k, v]) => (v === '*' ? k in tags : tags[k] === v));
}

/** Cluster and listener modifications; what `Add` adds goes to the proxy's anchor part only. */
export function applyResourceMod(kind: 'cluster' | 'listener', mod: Mod, targets: Target[], anchor: boolean): Target[] {
  const type = kind === 'cluster' ? T.Cluster() : T.Listener();
  const typeUrl = kind === 'cluster' ? TypeUrl.Cluster : TypeUrl.Listener;
  const m = mod.match;
  const matches = (t: Target) =>
    t.draft.typeUrl === typeUrl &&
    (str(m, 'name') === undefined || str(m, 'name') === t.draft.name) &&
    (str(m, 'origin') === undefined || str(m, 'origin') === t.origin) &&
    (kind === 'cluster' || tagsMatch(m?.['tags'], t.tags));
  switch (mod.operation) {
    case 'Add': {
      if (!anchor) return targets;
      const body = valueOf(mod, type);
      const name = typeof body['name'] === 'string' ? body['name'] : '';
      if (name === '') throw new ModificationError(`an added ${kind} needs a name`);
      const d: Draft = { typeUrl, name, body, namedOnly: false };
      return [...targets, { draft: d, origin: 'meshproxypatch', tags: {} }];
    }
    case 'Remove':
      return targets.filter((t) => !matches(t));
    case 'Patch': {
      const value = valueOf(mod, type);
      return targets.map((t) => {
        if (!matches(t)) return t;
        const body = patchBody(type, t.draft.body, mod, value);
        if (body['name'] !== t.draft.name) throw new ModificationError(`a patch may not rename ${kind} "${t.draft.name}"`);
        return { ...t, draft: { ...t.draft, body } };
      });
    }
    default:
      throw new ModificationError(`invalid operation: ${String(mod.operation)}`);
  }
}

/** Inserts, removes or patches entries of a filter list (Kuma's network and HTTP filter modificators). */
function modifyFilters(filters: JsonObject[], mod: Mod, type: protobuf.Type): JsonObject[] {
  const name = str(mod.match, 'name');
  const matches = (f: JsonObject) => name === undefined || f['name'] === name;
  const value = () => valueOf(mod, type);
  const at = name === undefined ? -1 : filters.findIndex((f) => f['name'] === name);
  switch (mod.operation) {
    case 'AddFirst':
      return [value(), ...filters];
    case 'AddLast':
      return [...filters, value()];
    case 'AddBefore':
      return at === -1 ? filters : [...filters.slice(0, at), value(), ...filters.slice(at)];
    case 'AddAfter':
      return at === -1 ? filters : [...filters.slice(0, at + 1), value(), ...filters.slice(at + 1)];
    case 'Remove':
      return filters.filter((f) => !matches(f));
    case 'Patch': {
      const patch = value();
      return filters.map((f) => (matches(f) ? { ...f, typed_config: patchTypedConfig(f['typed_config'], patch['typed_config'], mod) } : f));
    }
    default:
      throw new ModificationError(`invalid operation: ${String(mod.operation)}`);
  }
}

/** Kuma's MergeAnys / MergeJsonPatchAny on a filter's typed config. */
function patchTypedConfig(current: unknown, patch: unknown, mod: Mod): JsonObject {
  if (!isObj(current)) throw new ModificationError('the filter to patch has no typed_config');
  const any = T.Any();
  if (mod.jsonPatches && mod.jsonPatches.length > 0) return applyJsonPatch(any, current, mod.jsonPatches);
  if (!isObj(patch)) return current;
  if (patch['@type'] !== current['@type']) throw new ModificationError(`cannot merge a ${String(patch['@type'])} into a ${String(current['@type'])}`);
  const inner = messageType(String(current['@type']).split('/').pop()!);
  const { '@type': url, ...a } = current;
  const { '@type': _, ...b } = patch;
  return { '@type': url, ...mergeMessage(inner, structuredClone(a), b) } as JsonObject;
}

const obj = (v: unknown): JsonObject | undefined => (isObj(v) ? v : undefined);
const list = (v: unknown): JsonObject[] => (Array.isArray(v) ? (v.filter(isObj) as JsonObject[]) : []);

function listenerMatches(mod: Mod, t: Target): boolean {
  const m = mod.match;
  return (
    t.draft.typeUrl === TypeUrl.Listener &&
    (str(m, 'listenerName') === undefined || str(m, 'listenerName') === t.draft.name) &&
    (str(m, 'origin') === undefined || str(m, 'origin') === t.origin) &&
    tagsMatch(m?.['listenerTags'], t.tags)
  );
}

/** networkFilter: every filter chain of the matching listeners. */
export function applyNetworkFilterMod(mod: Mod, targets: Target[]): Target[] {
  return targets.map((t) => {
    if (!listenerMatches(mod, t)) return t;
    const body = structuredClone(t.draft.body);
    for (const chain of list(body['filter_chains'])) chain['filters'] = modifyFilters(list(chain['filters']), mod, T.Filter());
    return { ...t, draft: { ...t.draft, body } };
  });
}

/** The HCMs of a listener body (filters named envoy.filters.network.http_connection_manager). */
function hcms(body: JsonObject): JsonObject[] {
  return list(body['filter_chains']).flatMap((c) => list(c['filters']).flatMap((f) => (f['name'] === HCM_NAME && obj(f['typed_config']) ? [obj(f['typed_config'])!] : [])));
}

/** httpFilter: the HTTP filters of every HCM of the matching listeners. */
export function applyHttpFilterMod(mod: Mod, targets: Target[]): Target[] {
  return targets.map((t) => {
    if (!listenerMatches(mod, t)) return t;
    const body = structuredClone(t.draft.body);
    for (const hcm of hcms(body)) hcm['http_filters'] = modifyFilters(list(hcm['http_filters']), mod, T.HttpFilter());
    return { ...t, draft: { ...t.draft, body } };
  });
}

/**
 * virtualHost: the virtual hosts of inline route configurations (Kuma's sidecar listeners carry
 * their routes inline) and, since this control plane serves outbound routes over RDS, of the
 * outbound RouteConfigurations, which Kuma would have had inline in the listener.
 */
export function applyVirtualHostMod(mod: Mod, targets: Target[]): Target[] {
  const m = mod.match;
  const type = T.VirtualHost();
  const value = valueOf(mod, type);
  const modify = (rc: JsonObject) => {
    if (str(m, 'routeConfigurationName') !== undefined && rc['name'] !== str(m, 'routeConfigurationName')) return;
    const vhs = list(rc['virtual_hosts']);
    const matches = (vh: JsonObject) => str(m, 'name') === undefined || vh['name'] === str(m, 'name');
    switch (mod.operation) {
      case 'Add':
        rc['virtual_hosts'] = [...vhs, value];
        return;
      case 'Remove':
        rc['virtual_hosts'] = vhs.filter((vh) => !matches(vh));
        return;
      case 'Patch':
        rc['virtual_hosts'] = vhs.map((vh) => (matches(vh) ? patchBody(type, vh, mod, value) : vh));
        return;
      default:
        throw new ModificationError(`invalid operation: ${String(mod.operation)}`);
    }
  };
  return targets.map((t) => {
    if (str(m, 'origin') !== undefined && str(m, 'origin') !== t.origin) return t;
    if (t.draft.typeUrl === TypeUrl.Listener) {
      const body = structuredClone(t.draft.body);
      for (const hcm of hcms(body)) {
        const rc = obj(hcm['route_config']);
        if (rc) modify(rc);
      }
      return { ...t, draft: { ...t.draft, body } };
    }
    if (t.draft.typeUrl === TypeUrl.RouteConfiguration) {
      const body = structuredClone(t.draft.body);
      modify(body);
      return { ...t, draft: { ...t.draft, body } };
    }
    return t;
  });
}
