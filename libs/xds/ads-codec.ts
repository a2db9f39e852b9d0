import protobuf from 'protobufjs';
import { messageType } from './protos.ts';
import type { XdsResource } from './resource.ts';

/** Wire types of the ADS service, encoded with protobufjs from Envoy's protos. */
let types: { req: protobuf.Type; res: protobuf.Type; dreq: protobuf.Type; dres: protobuf.Type } | undefined;
function t() {
  types ??= {
    req: messageType('envoy.service.discovery.v3.DiscoveryRequest'),
    res: messageType('envoy.service.discovery.v3.DiscoveryResponse'),
    dreq: messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest'),
    dres: messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse'),
  };
  return types;
}

export interface Node {
  readonly id: string;
  readonly cluster?: string;
  readonly metadata: Record<string, unknown>;
  readonly userAgentName?: string;
  readonly userAgentVersion?: string;
}

export interface ErrorDetail {
  readonly code: number;
  readonly message: string;
}

export interface DiscoveryRequest {
  readonly versionInfo: string;
  readonly node?: Node;
  readonly resourceNames: string[];
  readonly typeUrl: string;
  readonly responseNonce: string;
  readonly errorDetail?: ErrorDetail;
}

export interface DeltaDiscoveryRequest {
  readonly node?: Node;
  readonly typeUrl: string;
  readonly subscribe: string[];
  readonly unsubscribe: string[];
  readonly initialVersions: Record<string, string>;
  readonly responseNonce: string;
  readonly errorDetail?: ErrorDetail;
}

type Obj = Record<string, unknown>;

/**
 * google.protobuf.Struct / Value (as protobufjs decodes them) to plain JSON. protobufjs defines
 * these well-known types itself, with camelCase field names even when loading with keepCase.
 */
export function structToJson(s: unknown): Record<string, unknown> {
  const fields = (s as { fields?: Record<string, unknown> } | undefined)?.fields ?? {};
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, valueToJson(v)]));
}

function valueToJson(v: unknown): unknown {
  const o = (v ?? {}) as Obj;
  if ('stringValue' in o) return o['stringValue'];
  if ('numberValue' in o) return o['numberValue'];
  if ('boolValue' in o) return o['boolValue'];
  if ('structValue' in o) return structToJson(o['structValue']);
  if ('listValue' in o) return (((o['listValue'] as Obj)['values'] as unknown[]) ?? []).map(valueToJson);
  return null;
}

function node(n: unknown): Node | undefined {
  if (!n) return undefined;
  const o = n as Obj;
  return {
    id: String(o['id'] ?? ''),
    ...(o['cluster'] ? { cluster: String(o['cluster']) } : {}),
    metadata: structToJson(o['metadata']),
    ...(o['user_agent_name'] ? { userAgentName: String(o['user_agent_name']) } : {}),
    ...(o['user_agent_version'] ? { userAgentVersion: String(o['user_agent_version']) } : {}),
  };
}

function errorDetail(e: unknown): ErrorDetail | undefined {
  if (!e) return undefined;
  const o = e as Obj;
  return { code: Number(o['code'] ?? 0), message: String(o['message'] ?? '') };
}

export function decodeRequest(buf: Buffer): DiscoveryRequest {
  const m = t().req.toObject(t().req.decode(buf), { defaults: true }) as Obj;
  return {
    versionInfo: String(m['version_info'] ?? ''),
    ...(m['node'] ? { node: node(m['node'])! } : {}),
    resourceNames: (m['resource_names'] as string[]) ?? [],
    typeUrl: String(m['type_url'] ?? ''),
    responseNonce: String(m['response_nonce'] ?? ''),
    ...(m['error_detail'] ? { errorDetail: errorDetail(m['error_detail'])! } : {}),
  };
}

export function decodeDeltaRequest(buf: Buffer): DeltaDiscoveryRequest {
  const m = t().dreq.toObject(t().dreq.decode(buf), { defaults: true }) as Obj;
  return {
    ...(m['node'] ? { node: node(m['node'])! } : {}),
    typeUrl: String(m['type_url'] ?? ''),
    subscribe: (m['resource_names_subscribe'] as string[]) ?? [],
    unsubscribe: (m['resource_names_unsubscribe'] as string[]) ?? [],
    initialVersions: (m['initial_resource_versions'] as Record<string, string>) ?? {},
    responseNonce: String(m['response_nonce'] ?? ''),
    ...(m['error_detail'] ? { errorDetail: errorDetail(m['error_detail'])! } : {}),
  };
}

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/*
 * Responses are assembled from per-resource encodings made once per resource, since the same
 * resource goes to every proxy that uses it; only version, nonce and type URL are written per
 * response. Fields go in field-number order, as protobufjs writes them, so the bytes are the
 * same as encoding the whole message (a test holds that).
 */
const encodedAny = new WeakMap<XdsResource, Uint8Array>();
const encodedDeltaResource = new WeakMap<XdsResource, Uint8Array>();

/**
 * A kept encoding gets its own memory: the writer's buffer comes from node's 8 KB pool, and a
 * cached slice would keep the whole slab alive (18 KB per stream in a 2,000-stream gateway).
 */
const owned = (w: protobuf.Writer): Uint8Array => new Uint8Array(w.finish());

/** google.protobuf.Any { type_url = 1; value = 2 } */
function anyOf(r: XdsResource): Uint8Array {
  let b = encodedAny.get(r);
  if (!b) encodedAny.set(r, (b = owned(protobuf.Writer.create().uint32(10).string(r.typeUrl).uint32(18).bytes(r.bytes))));
  return b;
}

/** discovery.v3.Resource { version = 1; resource = 2; name = 3 } */
function deltaResourceOf(r: XdsResource): Uint8Array {
  let b = encodedDeltaResource.get(r);
  if (!b) {
    // The Any is written in place, not through anyOf's cache: a delta-only gateway would keep it twice.
    const w = protobuf.Writer.create().uint32(10).string(r.hash).uint32(18).fork().uint32(10).string(r.typeUrl).uint32(18).bytes(r.bytes).ldelim();
    encodedDeltaResource.set(r, (b = owned(w.uint32(26).string(r.name))));
  }
  return b;
}

/** DiscoveryResponse { version_info = 1; resources = 2; type_url = 4; nonce = 5 } */
export function encodeResponse(typeUrl: string, version: string, nonce: string, resources: readonly XdsResource[]): Buffer {
  const w = protobuf.Writer.create().uint32(10).string(version);
  for (const r of resources) w.uint32(18).bytes(anyOf(r));
  return asBuffer(w.uint32(34).string(typeUrl).uint32(42).string(nonce).finish());
}

/** DeltaDiscoveryResponse { system_version_info = 1; resources = 2; type_url = 4; nonce = 5; removed_resources = 6 } */
export function encodeDeltaResponse(
  typeUrl: string,
  systemVersion: string,
  nonce: string,
  resources: readonly XdsResource[],
  removed: readonly string[],
): Buffer {
  const w = protobuf.Writer.create().uint32(10).string(systemVersion);
  for (const r of resources) w.uint32(18).bytes(deltaResourceOf(r));
  w.uint32(34).string(typeUrl).uint32(42).string(nonce);
  for (const n of removed) w.uint32(50).string(n);
  return asBuffer(w.finish());
}

/** Test-side encoders (the ADS test client sends requests). */
export function encodeRequest(o: Obj): Buffer {
  const { req } = t();
  return Buffer.from(req.encode(req.fromObject(o)).finish());
}
export function encodeDeltaRequest(o: Obj): Buffer {
  const { dreq } = t();
  return Buffer.from(dreq.encode(dreq.fromObject(o)).finish());
}
export function decodeResponse(buf: Buffer): Obj {
  const { res } = t();
  return res.toObject(res.decode(buf), { defaults: true, longs: Number }) as Obj;
}
export function decodeDeltaResponse(buf: Buffer): Obj {
  const { dres } = t();
  return dres.toObject(dres.decode(buf), { defaults: true, longs: Number }) as Obj;
}

/** Plain JSON to google.protobuf.Value, for building node metadata (tests, kuma-dp's relay). */
export function jsonToValue(v: unknown): Obj {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(jsonToValue) } };
  if (v && typeof v === 'object') return { structValue: jsonToStruct(v as Obj) };
  return { nullValue: 0 };
}

export function jsonToStruct(o: Obj): Obj {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, jsonToValue(v)])) };
}
