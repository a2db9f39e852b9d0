import protobuf from 'protobufjs';
import type { JsonObject } from '../../resources/validation.ts';
import { jsonToStruct, structToJson } from '../../xds/ads-codec.ts';
import { messageType, TYPE_PREFIX } from '../../xds/protos.ts';

/**
 * Conversion between the translator's draft form of an Envoy message (proto field names,
 * protobufjs' well-known types: Duration as `{seconds, nanos}`, wrappers as `{value}`, Struct as
 * `{fields}`, Any as `{'@type', ...}`) and canonical proto3 JSON (JSON names such as
 * `connectTimeout`, Duration `"5s"`, plain wrappers and Structs), which is what Kuma's JSON
 * patches address and what its `value` YAML holds. Reading accepts either field name, as
 * protojson does. Throws ProtoJsonError on what no Envoy message can hold.
 */
export class ProtoJsonError extends Error {
  override readonly name = 'ProtoJsonError';
}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `google.protobuf.${n}`));

const isObj = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
const fullName = (t: protobuf.Type) => t.fullName.replace(/^\./, '');
const jsonName = (f: protobuf.Field) => f.name.replace(/_(.)/g, (_, c: string) => c.toUpperCase());

function fieldOf(t: protobuf.Type, key: string): protobuf.Field | undefined {
  return t.fields[key] ?? t.fieldsArray.find((f) => jsonName(f) === key);
}

function durationToJson(d: JsonObject): string {
  const s = Number(d['seconds'] ?? 0);
  const n = Number(d['nanos'] ?? 0);
  if (n === 0) return `${s}s`;
  const frac = String(Math.abs(n)).padStart(9, '0').replace(/0+$/, '');
  return `${s === 0 && n < 0 ? '-' : ''}${s}.${frac}s`;
}

function durationFromJson(v: unknown, path: string): JsonObject {
  if (isObj(v)) return v; // already `{seconds, nanos}`
  const m = typeof v === 'string' ? /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(v) : null;
  if (!m) throw new ProtoJsonError(`${path}: invalid google.protobuf.Duration ${JSON.stringify(v)}`);
  const sign = m[1] ? -1 : 1;
  const seconds = Number(m[2]) * sign;
  const nanos = m[3] ? Number(m[3].padEnd(9, '0')) * sign : 0;
  return nanos === 0 ? { seconds } : { seconds, nanos };
}

function anyType(v: JsonObject, path: string): protobuf.Type {
  const url = v['@type'];
  if (typeof url !== 'string' || !url.startsWith(TYPE_PREFIX)) throw new ProtoJsonError(`${path}: an Any needs "@type": "${TYPE_PREFIX}<message>"`);
  try {
    return messageType(url.slice(TYPE_PREFIX.length));
  } catch {
    throw new ProtoJsonError(`${path}: unknown type ${url}`);
  }
}

/** A draft-form message as canonical proto3 JSON. */
export function toProtoJson(t: protobuf.Type, v: unknown, path = ''): unknown {
  const name = fullName(t);
  if (name === 'google.protobuf.Duration' && isObj(v)) return durationToJson(v);
  if (WRAPPERS.has(name) && isObj(v)) return v['value'];
  if (name === 'google.protobuf.Struct' && isObj(v)) return isObj(v['fields']) && Object.keys(v).length === 1 ? structToJson(v) : v;
  if (name === 'google.protobuf.Value' || name === 'google.protobuf.ListValue') return v;
  if (name === 'google.protobuf.Any' && isObj(v)) {
    const inner = anyType(v, path);
    const { '@type': url, ...rest } = v;
    return { '@type': url, ...(toProtoJson(inner, rest, path) as JsonObject) };
  }
  if (!isObj(v)) return v;
  const out: JsonObject = {};
  for (const [k, val] of Object.entries(v)) {
    const f = fieldOf(t, k);
    if (!f) {
      out[k] = val as JsonObject;
      continue;
    }
    const rt = f.resolve().resolvedType;
    const conv = (x: unknown, p: string) => (rt instanceof protobuf.Type ? toProtoJson(rt, x, p) : x);
    const p = `${path}/${jsonName(f)}`;
    out[jsonName(f)] = (f.map && isObj(val)
      ? Object.fromEntries(Object.entries(val).map(([mk, mv]) => [mk, conv(mv, `${p}/${mk}`)]))
      : Array.isArray(val)
        ? val.map((x, i) => conv(x, `${p}/${i}`))
        : conv(val, p)) as JsonObject;
  }
  return out;
}

/** Proto3 JSON (either field name) as a draft-form message; unknown fields are an error. */
export function fromProtoJson(t: protobuf.Type, v: unknown, path = ''): unknown {
  const name = fullName(t);
  if (name === 'google.protobuf.Duration') return durationFromJson(v, path || '/');
  if (WRAPPERS.has(name)) return isObj(v) ? v : { value: v };
  if (name === 'google.protobuf.Struct') {
    if (!isObj(v)) throw new ProtoJsonError(`${path || '/'}: a google.protobuf.Struct must be an object`);
    return jsonToStruct(v);
  }
  if (name === 'google.protobuf.Value' || name === 'google.protobuf.ListValue') return v;
  if (!isObj(v)) throw new ProtoJsonError(`${path || '/'}: ${name} must be an object, not ${JSON.stringify(v)}`);
  if (name === 'google.protobuf.Any') {
    const inner = anyType(v, path || '/');
    const { '@type': url, ...rest } = v;
    return { '@type': url, ...(fromProtoJson(inner, rest, path) as JsonObject) };
  }
  const out: JsonObject = {};
  for (const [k, val] of Object.entries(v)) {
    const f = fieldOf(t, k);
    if (!f) throw new ProtoJsonError(`${path}/${k}: no such field in ${name}`);
    if (val === null) continue; // proto3 JSON: null means the default
    const rt = f.resolve().resolvedType;
    const p = `${path}/${k}`;
    const conv = (x: unknown, q: string) => (rt instanceof protobuf.Type ? fromProtoJson(rt, x, q) : x);
    if (f.map) {
      if (!isObj(val)) throw new ProtoJsonError(`${p}: must be an object (a map)`);
      out[f.name] = Object.fromEntries(Object.entries(val).map(([mk, mv]) => [mk, conv(mv, `${p}/${mk}`)])) as JsonObject;
    } else if (f.repeated) {
      if (!Array.isArray(val)) throw new ProtoJsonError(`${p}: must be a list`);
      out[f.name] = val.map((x, i) => conv(x, `${p}/${i}`)) as JsonObject[];
    } else out[f.name] = conv(val, p) as JsonObject;
  }
  return out;
}

/** Whether a scalar is proto3's default (which Go's proto.Merge does not copy for fields without presence). */
function isDefault(f: protobuf.Field, v: unknown): boolean {
  if (v === '' || v === 0 || v === false || v === '0') return true;
  const rt = f.resolve().resolvedType;
  if (rt instanceof protobuf.Enum) return rt.values[String(v)] === 0 || v === 0;
  return false;
}

/**
 * Go's proto.Merge on draft-form messages: set scalars overwrite (defaults of fields without
 * presence do not), messages merge recursively, lists append, map entries replace, setting a
 * member of a oneof clears the others, an Any replaces the whole value.
 */
export function mergeMessage(t: protobuf.Type, target: JsonObject, patch: JsonObject): JsonObject {
  if (fullName(t) === 'google.protobuf.Any' || fullName(t) === 'google.protobuf.Struct') return patch;
  for (const [k, val] of Object.entries(patch)) {
    const f = t.fields[k];
    if (!f) continue;
    const rt = f.resolve().resolvedType;
    if (f.partOf && f.partOf.oneof.length > 1) for (const other of f.partOf.oneof) if (other !== k) delete target[other];
    if (f.map && isObj(val)) target[k] = { ...(isObj(target[k]) ? target[k] : {}), ...val };
    else if (Array.isArray(val)) target[k] = [...(Array.isArray(target[k]) ? (target[k] as unknown[]) : []), ...val] as JsonObject[];
    else if (rt instanceof protobuf.Type && isObj(val)) target[k] = isObj(target[k]) ? mergeMessage(rt, { ...(target[k] as JsonObject) }, val) : val;
    else if (f.partOf || !isDefault(f, val)) target[k] = val as JsonObject;
  }
  return target;
}
