import { createHash } from 'node:crypto';
import { TYPE_ORDER, TypeUrl } from '../xds/protos.ts';
import { decodeToObject } from '../xds/resource.ts';
import type { Snapshot } from '../xds/snapshot.ts';

/** A proxy's xDS configuration as `_config` shows it: by type URL (Kuma's order), then resource name (sorted). */
export type ConfigJson = Record<string, Record<string, unknown>>;

/** The snapshot as `_config` renders it (resources served in the snapshot and by name only). */
export function configJson(s: Snapshot): ConfigJson {
  const out: ConfigJson = {};
  for (const typeUrl of TYPE_ORDER) {
    const all = [...(s.resources.get(typeUrl)?.values() ?? []), ...(s.namedOnly.get(typeUrl)?.values() ?? [])];
    if (all.length === 0) continue;
    out[typeUrl] = Object.fromEntries(all.sort((a, b) => a.name.localeCompare(b.name)).map((r) => [r.name, decodeToObject(typeUrl, r.bytes)]));
  }
  return out;
}

const INLINE = new Set(['inline_bytes', 'inline_string', 'inlineBytes', 'inlineString']);

function redactValue(v: unknown, digest: (s: string) => string): unknown {
  if (Array.isArray(v)) return v.map((x) => redactValue(x, digest));
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = INLINE.has(k) ? digest(typeof x === 'string' ? x : JSON.stringify(x)) : redactValue(x, digest);
  return out;
}

/**
 * The configuration with the inline data of Envoy Secrets (keys, certificates) replaced by
 * digests: what `_config?at=` and previews show, so a past or hypothetical configuration never
 * carries key material. The digest is a truncated sha256: it tells that a secret changed.
 */
export function redactConfig(config: ConfigJson): ConfigJson {
  const secrets = config[TypeUrl.Secret];
  if (!secrets) return config;
  const digest = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex').slice(0, 16)}`;
  return { ...config, [TypeUrl.Secret]: Object.fromEntries(Object.entries(secrets).map(([n, r]) => [n, redactValue(r, digest)])) };
}
