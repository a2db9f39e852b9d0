import { isJsonValue, kumaEsType } from '../wire/proto-root.ts';
import type { Manifest, Pointer } from './manifest.ts';

/**
 * Values of the manifests bucket on the wire: `kuma_es.v1.ManifestsEntry` (proto/kuma_es/v1/
 * manifest.proto), which decodes several times faster than the JSON it replaced (test/bench/
 * wire.ts). Reading still accepts the JSON values written before: a JSON value starts with '{',
 * an entry never does.
 */
export type ManifestsValue =
  | { readonly kind: 'manifest'; readonly manifest: Manifest }
  | { readonly kind: 'ref'; readonly ref: string; readonly proxy: string; readonly position: number }
  | { readonly kind: 'pointer'; readonly pointer: Pointer };

type Refs = Readonly<Record<string, Readonly<Record<string, string>>>>;
interface WireRefs {
  hashByName: Record<string, string>;
}
interface WireManifest {
  proxy: string;
  position: number;
  generatedBy: string;
  changedAt?: number | null;
  deleted?: boolean;
  resources?: Record<string, WireRefs>;
  namedOnly?: Record<string, WireRefs>;
}
interface WireEntry {
  manifest?: WireManifest | null;
  manifestRef?: { ref: string; proxy: string; position: number } | null;
  pointer?: { hash: string; position: number; changedAt?: number | null } | null;
}

let entryType: ReturnType<typeof kumaEsType> | undefined;
const entry = () => (entryType ??= kumaEsType('ManifestsEntry'));

function toWire(refs: Refs): Record<string, WireRefs> {
  const out: Record<string, WireRefs> = {};
  for (const typeUrl of Object.keys(refs)) out[typeUrl] = { hashByName: refs[typeUrl] as Record<string, string> };
  return out;
}

function fromWire(refs: Record<string, WireRefs> | undefined): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  if (refs) for (const typeUrl of Object.keys(refs)) out[typeUrl] = refs[typeUrl]!.hashByName;
  return out;
}

const has = (v: number | null | undefined): v is number => v !== undefined && v !== null;

export function encodeManifest(m: Manifest): Uint8Array {
  const manifest: WireManifest = { proxy: m.proxy, position: m.position, generatedBy: m.generatedBy, resources: toWire(m.resources), namedOnly: toWire(m.namedOnly) };
  if (m.changedAt !== undefined) manifest.changedAt = m.changedAt;
  if (m.deleted) manifest.deleted = true;
  return entry().encode({ manifest } satisfies WireEntry).finish();
}

export function encodeManifestRef(ref: string, proxy: string, position: number): Uint8Array {
  return entry().encode({ manifestRef: { ref, proxy, position } } satisfies WireEntry).finish();
}

export function encodePointer(p: Pointer): Uint8Array {
  return entry().encode({ pointer: { hash: p.hash, position: p.position, ...(p.changedAt !== undefined ? { changedAt: p.changedAt } : {}) } } satisfies WireEntry).finish();
}

function fromJson(data: Uint8Array): ManifestsValue {
  const parsed = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as Manifest | { ref: string; proxy: string; position: number } | Pointer;
  if ('hash' in parsed) return { kind: 'pointer', pointer: parsed };
  if ('ref' in parsed) return { kind: 'ref', ref: parsed.ref, proxy: parsed.proxy, position: parsed.position };
  return { kind: 'manifest', manifest: parsed };
}

/** Decodes a value of the manifests bucket, proto or JSON. Throws on neither. */
export function decodeManifestsValue(data: Uint8Array): ManifestsValue {
  if (isJsonValue(data)) return fromJson(data);
  const e = entry().decode(data) as unknown as WireEntry;
  if (e.manifest) {
    const w = e.manifest;
    const manifest: Manifest = {
      v: 1,
      proxy: w.proxy,
      position: w.position,
      generatedBy: w.generatedBy,
      ...(has(w.changedAt) ? { changedAt: w.changedAt } : {}),
      ...(w.deleted ? { deleted: true as const } : {}),
      resources: fromWire(w.resources),
      namedOnly: fromWire(w.namedOnly),
    };
    return { kind: 'manifest', manifest };
  }
  if (e.manifestRef) return { kind: 'ref', ref: e.manifestRef.ref, proxy: e.manifestRef.proxy, position: e.manifestRef.position };
  if (e.pointer) {
    const p = e.pointer;
    return { kind: 'pointer', pointer: { hash: p.hash, position: p.position, ...(has(p.changedAt) ? { changedAt: p.changedAt } : {}) } };
  }
  throw new Error('manifests bucket value holds no manifest, reference or pointer');
}

/** The log position a stored value carries (what a writer compares before replacing it). */
export function positionOfValue(data: Uint8Array): number {
  const v = decodeManifestsValue(data);
  return v.kind === 'manifest' ? v.manifest.position : v.kind === 'ref' ? v.position : v.pointer.position;
}
