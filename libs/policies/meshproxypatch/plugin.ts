import type { Draft, Part } from '../../xds/generate/part.ts';
import type { PluginContext, TranslationPlugin } from '../../xds/generate/plugin.ts';
import { PluginError } from '../../xds/plugin-error.ts';
import { proxyPart } from '../core/proxy-part.ts';
import { strictDiff } from '../../xds/resource.ts';
import type { MeshProxyPatchSpec, Modification } from './api.ts';
import { applyHttpFilterMod, applyNetworkFilterMod, applyResourceMod, applyVirtualHostMod, ModificationError, type Target } from './mods.ts';

const TYPE = 'MeshProxyPatch';
/** The part that receives added clusters and listeners (one per proxy that adds any). */
const PART_KIND = 'meshproxypatch';
type Kind = keyof Modification;

/** What the plugin applies to one part. */
interface Applied {
  /** The modifications that can touch this part, with their index in `appendModifications`. */
  readonly mods: readonly (readonly [number, Modification])[];
  /** Whether this is the part that receives added clusters and listeners. */
  readonly anchor: boolean;
  /** Kuma's origin name of the part's resources. */
  readonly origin: string;
  /** What Kuma's listener tag matches read (the io.kuma.tags of its listeners). */
  readonly tags: Readonly<Record<string, string>>;
}

/** Kuma's origin names (pkg/xds/generator/metadata) for our parts. */
const PART_ORIGINS: Readonly<Record<string, string>> = {
  inbound: 'inbound',
  'out-lds': 'outbound',
  cds: 'outbound',
  rds: 'outbound',
  tp: 'transparent',
  admin: 'admin',
  meshtrace: 'meshtrace',
  meshaccesslog: 'meshaccesslog',
  meshmetric: 'prometheus',
  [PART_KIND]: 'meshproxypatch',
};
/** Resources other plugins add to a part, by name, with the origin Kuma gives them. */
const ADDED_ORIGINS: readonly [string, string][] = [
  ['meshaccesslog:', 'meshaccesslog'],
  ['meshtrace:', 'meshtrace'],
  ['_kuma:metrics:prometheus:', 'prometheus'],
  ['_kuma:metrics:hijacker', 'prometheus'],
  ['_kuma:dynamicconfig:', 'dynamic-config'],
  ['_kuma:metrics:opentelemetry:', 'open-telemetry'],
  ['meshpassthrough_', 'meshpassthrough'],
];
export const originOf = (d: Draft, partOrigin: string): string => ADDED_ORIGINS.find(([p]) => d.name.startsWith(p))?.[1] ?? partOrigin;

/** Which modification kinds can touch a part's resources. */
const KINDS_OF_PART: Readonly<Record<string, readonly Kind[]>> = {
  inbound: ['cluster', 'listener', 'networkFilter', 'httpFilter', 'virtualHost'],
  'out-lds': ['cluster', 'listener', 'networkFilter', 'httpFilter', 'virtualHost'],
  cds: ['cluster'],
  rds: ['virtualHost'],
  tp: ['cluster', 'listener', 'networkFilter', 'httpFilter', 'virtualHost'],
  admin: ['cluster', 'listener', 'networkFilter', 'httpFilter', 'virtualHost'],
  meshtrace: ['cluster'],
  meshaccesslog: ['cluster'],
  meshmetric: ['cluster', 'listener', 'networkFilter', 'httpFilter', 'virtualHost'],
  [PART_KIND]: ['cluster', 'listener', 'networkFilter', 'httpFilter', 'virtualHost'],
};

const kindOf = (m: Modification): Kind | undefined => (['cluster', 'listener', 'networkFilter', 'httpFilter', 'virtualHost'] as const).find((k) => m[k] !== undefined);
function tagsOf(part: Part): Readonly<Record<string, string>> {
  if (part.origin.kind === 'inbound') return part.origin.inbound.tags;
  if (part.origin.kind === 'outbound') return { 'kuma.io/service': part.origin.service };
  return {};
}

/**
 * MeshProxyPatch (Kuma order 9999, applied last): Kuma's modifications of clusters, listeners,
 * network filters, HTTP filters and virtual hosts, with `value` (YAML of the Envoy message,
 * merged as Go's proto.Merge does) or `jsonPatches` (RFC 6902 on the message's proto3 JSON, with
 * fast-json-patch), matched by name, origin (Kuma's origin names) and listener tags. Envoy only:
 * proxyless gRPC resources (served by name, the `lds-api` part) and load assignments are never
 * modified. A modification that cannot be applied, or whose result is not a valid Envoy
 * resource, throws PluginError: the proxy keeps its last good configuration.
 */
export const meshProxyPatchPlugin: TranslationPlugin = {
  name: 'MeshProxyPatch',
  order: 9999,
  reads: [TYPE],
  configure(part: Part, ctx: PluginContext): Applied | undefined {
    const kinds = KINDS_OF_PART[part.kind];
    if (!kinds) return undefined;
    const conf = ctx.policies.proxy(TYPE) as MeshProxyPatchSpec['default'] | undefined;
    const all = conf?.appendModifications ?? [];
    if (all.length === 0) return undefined;
    const anchor = part.kind === PART_KIND;
    const mods = all.flatMap((m, i): (readonly [number, Modification])[] => {
      const k = kindOf(m);
      if (!k) return [];
      const relevant = (k === 'cluster' || k === 'listener') && m[k]!.operation === 'Add' ? anchor : kinds.includes(k);
      return relevant ? [[i, m]] : [];
    });
    if (mods.length === 0) return undefined;
    return { mods, anchor, origin: PART_ORIGINS[part.kind]!, tags: tagsOf(part) };
  },
  /** A part of its own for what `Add` modifications add, when there are any. */
  parts(_built: readonly Part[], ctx: PluginContext): Part[] {
    const mods = (ctx.policies.proxy(TYPE) as MeshProxyPatchSpec['default'] | undefined)?.appendModifications ?? [];
    return mods.some((m) => m.cluster?.operation === 'Add' || m.listener?.operation === 'Add') ? [proxyPart(PART_KIND, [])] : [];
  },
  apply(drafts: Draft[], conf: unknown): void {
    const a = conf as Applied;
    const namedOnly = drafts.filter((d) => d.namedOnly);
    const original = drafts.filter((d) => !d.namedOnly);
    let targets: Target[] = original.map((d) => ({ draft: d, origin: originOf(d, a.origin), tags: a.tags }));
    for (const [i, m] of a.mods) {
      const kind = kindOf(m)!;
      const mod = m[kind]!;
      try {
        if (kind === 'cluster' || kind === 'listener') targets = applyResourceMod(kind, mod, targets, a.anchor);
        else if (kind === 'networkFilter') targets = applyNetworkFilterMod(mod, targets);
        else if (kind === 'httpFilter') targets = applyHttpFilterMod(mod, targets);
        else targets = applyVirtualHostMod(mod, targets);
      } catch (err) {
        if (!(err instanceof ModificationError)) throw err;
        throw new PluginError(TYPE, `spec.default.appendModifications[${i}].${kind}: ${err.message}`, undefined, { cause: err });
      }
    }
    // Only what a modification produced is checked: an unknown field or a wrong type would
    // otherwise be dropped silently on encoding, and Envoy would get something else than asked.
    for (const t of targets) {
      if (original.includes(t.draft)) continue;
      const diffs = strictDiff(t.draft.typeUrl, t.draft.body);
      if (diffs.length > 0) throw new PluginError(TYPE, `${t.draft.typeUrl.split('.').pop()} "${t.draft.name}" is not valid Envoy configuration: ${diffs.join('; ')}`, t.draft.name);
    }
    drafts.splice(0, drafts.length, ...namedOnly, ...targets.map((t) => t.draft));
  },
};
