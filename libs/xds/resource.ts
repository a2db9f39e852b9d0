import { createHash } from 'node:crypto';
import type { JsonObject } from '../resources/validation.ts';
import protobuf from 'protobufjs';
import { jsonToStruct, structToJson } from './ads-codec.ts';
import { messageType, typeNameOf, type TypeUrl } from './protos.ts';

/**
 * One Envoy resource, encoded once. `hash` is the SHA-256 of the encoded bytes: the
 * resource's content address and its xDS version. Instances are immutable and may be
 * shared by any number of proxies' snapshots.
 */
export interface XdsResource {
  readonly typeUrl: TypeUrl;
  readonly name: string;
  /** The resource in proto field names (snake_case); `Any` fields as `{ '@type': url, ... }`. */
  readonly body: Readonly<JsonObject>;
  readonly bytes: Uint8Array;
  readonly hash: string;
  /**
   * Set on a resource served by reference (a service's ClusterLoadAssignment): its slot in the
   * mesh, which stays the same while the content changes with the service's endpoints. Proxies
   * hold the slot, not the content, so an endpoint change moves one slot instead of rebuilding
   * every consumer. Proxies whose configuration of the resource differs (policies) hold
   * different slots. Not part of the content or its hash.
   */
  readonly shareKey?: string;
}

export function makeResource(typeUrl: TypeUrl, name: string, body: JsonObject, shareKey?: string): XdsResource {
  const type = messageType(typeNameOf(typeUrl));
  const bytes = type.encode(type.fromObject(body)).finish();
  return { typeUrl, name, body, bytes, hash: createHash('sha256').update(bytes).digest('hex'), ...(shareKey !== undefined ? { shareKey } : {}) };
}

/** Decodes encoded bytes back to proto-JSON-like objects (Any expanded), as `_config` shows them. */
export function decodeToObject(typeUrl: string, bytes: Uint8Array): JsonObject {
  const type = messageType(typeNameOf(typeUrl));
  return type.toObject(type.decode(bytes), { json: true, enums: String, longs: Number }) as JsonObject;
}

function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      const n = normalise(val);
      // proto3 drops defaults on the wire: empty strings, zeros, false, empty lists
      if (n === '' || n === 0 || n === false || (Array.isArray(n) && n.length === 0)) continue;
      out[k] = n;
    }
    return out;
  }
  return v;
}

/**
 * Strict decoding for tests: protobufjs silently drops unknown fields, so a misspelled field
 * would vanish unnoticed. Returns the paths where the resource does not survive an
 * encode/decode round trip through Envoy's schema (empty = clean).
 */
export function strictDiff(typeUrl: TypeUrl, body: JsonObject): string[] {
  return strictDiffType(typeNameOf(typeUrl), body);
}

/**
 * Proto-JSON maps google.protobuf.Struct to a plain object, which protobufjs' fromObject does
 * not; convert Struct-typed fields (recursively) to and from protobufjs' `{ fields }` form.
 */
function mapStructs(type: protobuf.Type, obj: unknown, toProtobufjs: boolean): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return obj;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj as JsonObject)) {
    const field = type.fields[k];
    const rt = field?.resolve().resolvedType;
    if (!field || !(rt instanceof protobuf.Type)) out[k] = v;
    else if (rt.fullName === '.google.protobuf.Struct') out[k] = toProtobufjs ? jsonToStruct(v as JsonObject) : structToJson(v);
    else if (Array.isArray(v)) out[k] = v.map((x) => mapStructs(rt, x, toProtobufjs));
    else out[k] = mapStructs(rt, v, toProtobufjs);
  }
  return out;
}

/** `strictDiff` for any Envoy message by full name (e.g. `envoy.config.bootstrap.v3.Bootstrap`). */
export function strictDiffType(fullName: string, json: JsonObject): string[] {
  const type = messageType(fullName);
  const body = mapStructs(type, json, true) as JsonObject;
  const err = type.verify(type.fromObject(body));
  const decoded = type.toObject(type.decode(type.encode(type.fromObject(body)).finish()), { json: true, enums: String, longs: Number });
  const back = normalise(mapStructs(type, decoded, false));
  const diffs: string[] = err ? [`verify: ${err}`] : [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (a !== null && typeof a === 'object' && !Array.isArray(a)) {
      for (const k of Object.keys(a)) {
        if (b === null || typeof b !== 'object' || !(k in b)) diffs.push(`${path}.${k}: not in Envoy's schema (or default value)`);
        else walk((a as JsonObject)[k], (b as JsonObject)[k], `${path}.${k}`);
      }
    } else if (Array.isArray(a)) {
      a.forEach((x, i) => walk(x, Array.isArray(b) ? b[i] : undefined, `${path}[${i}]`));
    } else if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${path}: ${JSON.stringify(a)} became ${JSON.stringify(b)}`);
  };
  walk(normalise(json), back, fullName);
  return diffs;
}
