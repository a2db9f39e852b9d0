import { createHash } from 'node:crypto';
import type { MeshState, ServiceView } from '../mesh-view/mesh-view.ts';
import { dataplaneModel, type DataplaneModel, type InboundModel } from '../resources/dataplane-model.ts';
import type { Resource } from '../resources/resource.ts';
import { generateAdmin } from './generate/admin.ts';
import { MapSharedCache, type OutboundTrim, type ProxyContext, type SharedCache } from './generate/context.ts';
import { generateInbounds } from './generate/inbound.ts';
import { generateOutbounds } from './generate/outbound.ts';
import type { Part } from './generate/part.ts';
import { NO_POLICIES, type ClientRules, type PluginContext, type ProxyPolicies, type TranslationPlugin } from './generate/plugin.ts';
import { generateTransparentProxy } from './generate/transparent.ts';
import { PluginError } from './plugin-error.ts';
import type { TypeUrl } from './protos.ts';
import { makeResource, type XdsResource } from './resource.ts';
import { buildSnapshot, type Snapshot } from './snapshot.ts';

/** One aspect of a proxy's configuration: the parts it consists of. Configurers are pure and independent of each other. */
export type Configurer = (ctx: ProxyContext) => Part[];

const MAX_TRANSITIONS = 64;

export const DEFAULT_CONFIGURERS: readonly Configurer[] = [generateInbounds, generateOutbounds, generateTransparentProxy, generateAdmin];

/** A part's resources, which of them are served only by name, and the configuration they were built for. */
interface Built {
  readonly resources: readonly XdsResource[];
  readonly namedOnly: readonly boolean[];
  /** Per plugin: the id of what it configured (0: nothing). Shared by every proxy that has this Built; never modified. */
  readonly row: Int32Array;
  /** The sections its resources are in (see `sectionBit`). */
  readonly mask: number;
}

/**
 * What the translator keeps of one proxy's translation, so that a change to some policy types
 * redoes only what reads them (see `retranslate`). Opaque to callers.
 */
export interface Translation {
  readonly snapshot: Snapshot;
  /** The Dataplane and Mesh resources it was built from: the same objects, or it is not reused. */
  readonly dataplane: Resource;
  readonly meshResource: Resource | undefined;
  readonly parts: readonly Part[];
  /** Per part: the interned id of its kind and inputs. */
  readonly prefixes: Int32Array;
  /** Per part: its resources, and (`row`) what each plugin configured for it. */
  readonly built: readonly Built[];
  /** Per slot part: the service view it was last refreshed from (views are replaced when their endpoints change). */
  readonly slotViews: readonly (ServiceView | undefined)[];
}

/** A translation, and whether it serves anything new (load assignments aside, which follow their slots). */
export interface Retranslation {
  readonly translation: Translation;
  readonly changed: boolean;
  /** Only some plugins were asked again: what the view reported read adds to the last full translation's reads. */
  readonly incremental: boolean;
}

/**
 * Turns Dataplanes into Envoy configuration in two phases: configurers build parts (plain,
 * mutable resource bodies tagged with their origin), then each plugin, in ascending order,
 * modifies them; each resource is encoded and hashed once at the end. Pure: the same inputs
 * always give byte-identical resources.
 *
 * Sharing by content: a part's resources are keyed by the part's inputs and what every plugin
 * configures for it, so proxies whose inputs agree share the same encoded objects, and a
 * by-reference part (a load assignment) is registered as a slot keyed by a digest of the same,
 * so an endpoint change rebuilds each distinct slot once (see SharedCache.setSlot).
 *
 * Following what changed: a translation remembers, per part, what each plugin configured, and a
 * change to policies of some types asks again only the plugins that read them (`reads`), so a
 * mesh-wide MeshTimeout costs one plugin call per part of each proxy, not a whole translation.
 */
export class Translator {
  private readonly plugins: readonly TranslationPlugin[];
  private readonly reads: readonly ReadonlySet<string>[];

  constructor(
    readonly shared: SharedCache = new MapSharedCache(),
    plugins: readonly TranslationPlugin[] = [],
    private readonly configurers: readonly Configurer[] = DEFAULT_CONFIGURERS,
    /** Trims transparent proxies' outbounds (automatic reachable services); none by default. */
    private readonly outboundTrim?: OutboundTrim,
  ) {
    this.plugins = [...plugins].sort((a, b) => a.order - b.order);
    this.reads = this.plugins.map((p) => new Set(p.reads));
  }

  /** One proxy's snapshot, with the policies that apply to it. Throws ResourceCollisionError when two parts name a resource alike, PluginError when a plugin cannot configure one. */
  translate(mesh: string, dataplane: Resource, view: MeshState, policies: ProxyPolicies = NO_POLICIES): Snapshot {
    return this.full(mesh, dataplane, view, policies).snapshot;
  }

  /**
   * The proxy's translation after a change to the policies of the `changed` types alone, its
   * Dataplane, Mesh and the services it read otherwise as at `previous`: only plugins that read
   * those types are asked again, only parts whose configuration moved are looked up, and load
   * assignments follow their services' current endpoints. Without `previous` or `changed` (or
   * when a changed type feeds a plugin's extra parts), a full translation. Throws as `translate`.
   */
  retranslate(mesh: string, dataplane: Resource, view: MeshState, policies: ProxyPolicies, previous?: Translation, changed?: ReadonlySet<string>): Retranslation {
    const stale: number[] = [];
    if (changed) this.reads.forEach((r, j) => [...changed].some((t) => r.has(t)) && stale.push(j));
    const reusable =
      previous !== undefined && changed !== undefined && previous.dataplane === dataplane && previous.meshResource === view.mesh && !stale.some((j) => this.plugins[j]!.parts);
    if (!reusable) return { translation: this.full(mesh, dataplane, view, policies), changed: true, incremental: false };
    const pctx = this.contexts(mesh, dataplaneModel(dataplane), view, policies);
    // Copied on first write: most parts of most proxies do not move.
    let parts = previous.parts;
    let prefixes = previous.prefixes;
    let built = previous.built;
    let slotViews = previous.slotViews;
    let moved = false;
    const single = stale.length === 1 ? stale[0]! : -1;
    const memoKey = this.memoKey(stale, policies);
    for (let i = 0; i < parts.length; i++) {
      let part = parts[i]!;
      let refreshed = false;
      const slot = part.slot;
      if (slot) {
        // A load assignment as the service's endpoints are now (they move without the proxy).
        // (A service missing then and now keeps its empty assignment; one that went away is a whole translation.)
        const svc = view.service(slot.service);
        if (svc !== slotViews[i]) {
          if (!svc) return { translation: this.full(mesh, dataplane, view, policies), changed: true, incremental: false };
          if (slotViews === previous.slotViews) slotViews = [...slotViews];
          (slotViews as (ServiceView | undefined)[])[i] = svc;
          const fresh = slot.of(svc);
          const prefix = this.prefixOf(fresh);
          if (prefix !== prefixes[i]) {
            if (parts === previous.parts) [parts, prefixes] = [[...parts], prefixes.slice()];
            (parts as Part[])[i] = part = fresh;
            prefixes[i] = prefix;
            refreshed = true;
          }
        }
      }
      const was = built[i]!;
      const outbound = part.origin.kind === 'outbound';
      // The same part of a proxy whose policies agree went from `was` to `memo[memoKey]` already.
      const memo = memoKey !== undefined && outbound && !refreshed ? (this.outboundMemo.get(was) ?? this.outboundMemo.set(was, new Map()).get(was)!) : undefined;
      const seen = memo?.get(memoKey!);
      if (seen) {
        if (seen === was) continue;
        if (built === previous.built) built = [...built];
        (built as Built[])[i] = seen;
        moved = true;
        continue;
      }
      if (memo && memo.size >= MAX_TRANSITIONS) memo.clear();
      let row: Int32Array | undefined;
      // What the stale plugins configure now: the key of the transition from `was` (one plugin: its id).
      let key: number | string;
      if (single >= 0) {
        key = this.idOf(this.plugins[single]!.configure(part, pctx(single, outbound)));
        if (key !== was.row[single]) (row = was.row.slice())[single] = key;
      } else {
        key = '';
        for (const j of stale) {
          const id = this.idOf(this.plugins[j]!.configure(part, pctx(j, outbound)));
          key += `${j}:${id},`;
          if (id !== was.row[j]) (row ??= was.row.slice())[j] = id;
        }
      }
      if (!refreshed && !row) {
        memo?.set(memoKey!, was);
        continue;
      }
      if (built === previous.built) built = [...built];
      if (row) moved = true;
      // Proxies that shared the old resources and get the same new configuration share the new ones: found once.
      const transitions = refreshed ? undefined : (this.transitions.get(was) ?? this.transitions.set(was, new Map()).get(was)!);
      const known = transitions?.get(key);
      if (known) {
        (built as Built[])[i] = known;
        memo?.set(memoKey!, known);
        continue;
      }
      const p = part;
      const next = this.build(mesh, p, prefixes[i]!, row ?? was.row, () => this.plugins.map((plugin, j) => plugin.configure(p, pctx(j, outbound))));
      (built as Built[])[i] = next;
      if (transitions && transitions.size >= MAX_TRANSITIONS) transitions.clear();
      transitions?.set(key, next);
      memo?.set(memoKey!, next);
    }
    const rebuilt = built !== previous.built;
    const snapshot = rebuilt ? reassemble(previous, built) : previous.snapshot;
    return { translation: { snapshot, dataplane, meshResource: view.mesh, parts, prefixes, built, slotViews }, changed: moved, incremental: true };
  }

  /**
   * Per Built, and per stale plugins' new configuration ids (`j:id,`): the Built that follows (see retranslate).
   * A Built that lives long through many policy changes keeps at most MAX_TRANSITIONS of them.
   */
  private readonly transitions = new WeakMap<Built, Map<number | string, Built>>();

  /**
   * Per Built of an outbound part, and per `memoKey`: the Built that follows. Where every stale
   * plugin is `outboundPure`, what it configures for an outbound part follows from the part and
   * the proxy's outbound policies alone, so proxies whose policies share an `outboundKey` make
   * the same transition: found once, then one lookup per part and proxy instead of a configure.
   */
  private readonly outboundMemo = new WeakMap<Built, Map<string, Built>>();

  /** The stale plugins and their outbound policies' key, if every one of them is `outboundPure`. */
  private memoKey(stale: readonly number[], policies: ProxyPolicies): string | undefined {
    if (!policies.outboundKey || stale.some((j) => !this.plugins[j]!.outboundPure)) return undefined;
    const types = new Set<string>();
    for (const j of stale) for (const t of this.reads[j]!) types.add(t);
    const key = policies.outboundKey([...types]);
    return key === undefined ? undefined : `${stale.join(',')}|${key}`;
  }

  private full(mesh: string, dataplane: Resource, view: MeshState, policies: ProxyPolicies): Translation {
    const model = dataplaneModel(dataplane);
    const reachable = this.outboundTrim?.reachableFrom(view, model);
    const ctx: ProxyContext = { mesh, dataplane, model, view, ...(reachable ? { reachable } : {}) };
    const pctx = this.contexts(mesh, model, view, policies);
    const parts = this.configurers.flatMap((configurer) => configurer(ctx));
    this.plugins.forEach((plugin, j) => {
      if (plugin.parts) parts.push(...plugin.parts(parts, pctx(j)));
    });
    const P = this.plugins.length;
    const prefixes = new Int32Array(parts.length);
    const built = parts.map((part, i) => {
      const outbound = part.origin.kind === 'outbound';
      const confs = P === 0 ? NONE : this.plugins.map((p, j) => p.configure(part, pctx(j, outbound)));
      const row = new Int32Array(P);
      for (let j = 0; j < P; j++) row[j] = this.idOf(confs[j]);
      return this.build(mesh, part, (prefixes[i] = this.prefixOf(part)), row, () => confs);
    });
    // A slot part is built from its service's current view (configurers and plugins read it from
    // `view`): the next retranslation refreshes only those whose view was replaced since.
    const slotViews = parts.map((part) => (part.slot ? view.service(part.slot.service) : undefined));
    return { snapshot: assemble(built), dataplane, meshResource: view.mesh, parts, prefixes, built, slotViews };
  }

  /**
   * The resources of parts that no particular proxy consumes (what a proxyless client asking for
   * a service by name gets), all served by name only. They carry only what holds for every
   * consumer: with `consumer` (the policies of a proxy that every policy selecting all proxies
   * selects, see serviceByName), what the `outboundPure` plugins configure for outbound parts
   * from those policies; other plugins configure nothing here.
   */
  translateParts(mesh: string, parts: readonly Part[], consumer?: { readonly model: DataplaneModel; readonly view: MeshState; readonly policies: ProxyPolicies }): Snapshot {
    const P = this.plugins.length;
    const nothing = new Int32Array(P);
    const none = P === 0 ? NONE : this.plugins.map(() => undefined);
    const pctx = consumer && this.contexts(mesh, consumer.model, consumer.view, consumer.policies);
    return buildSnapshot(
      [],
      parts.flatMap((part) => {
        if (!pctx || part.origin.kind !== 'outbound') return this.build(mesh, part, this.prefixOf(part), nothing, () => none).resources;
        const confs = this.plugins.map((p, j) => (p.outboundPure ? p.configure(part, pctx(j, true)) : undefined));
        const row = new Int32Array(P);
        for (let j = 0; j < P; j++) row[j] = this.idOf(confs[j]);
        return this.build(mesh, part, this.prefixOf(part), row, () => confs).resources;
      }),
    );
  }

  /**
   * Plugin `j`'s context, made on first use: the proxy's policies, of the types it declares it
   * reads. For parts of outbound origin, an `outboundPure` plugin's has no Dataplane and view.
   */
  private contexts(mesh: string, dataplane: DataplaneModel, view: MeshState, policies: ProxyPolicies): (j: number, outbound?: boolean) => PluginContext {
    const made: PluginContext[] = [];
    const pure: PluginContext[] = [];
    return (j, outbound = false) => {
      const ctx = (made[j] ??= { mesh, dataplane, view, policies: new Restricted(policies, this.plugins[j]!.name, this.reads[j]!) });
      if (!outbound || !this.plugins[j]!.outboundPure) return ctx;
      return (pure[j] ??= withoutProxy(ctx, this.plugins[j]!.name));
    };
  }

  /** Objects seen in plugin configurations, by identity: the id of their content (see `idOf`). */
  private readonly confIds = new WeakMap<object, number>();
  private readonly idsByContent = new Map<string, number>();
  /** Primitive values and object keys, by value: their ids, without serialising them. */
  private readonly primitiveIds = new Map<unknown, number>();
  private lastId = 0;

  /**
   * A small number for what a plugin configured (0: nothing). The policy engine hands the same
   * rule objects to every proxy its rules are shared with, and plugins wrap them in small fresh
   * objects: an object seen before is its id, a new one is keyed by its keys' and children's
   * ids, so content is serialised once, not once per part and proxy. Equal content gets the
   * same id, whatever object carries it. Plugins must not modify a value once they returned it.
   */
  private idOf(v: unknown): number {
    if (v === undefined) return 0;
    if (v === null || typeof v !== 'object') return this.primitiveId(v);
    let id = this.confIds.get(v);
    if (id === undefined) {
      let content: string;
      if (Array.isArray(v)) {
        content = '[';
        for (const x of v) content += `${this.idOf(x)},`;
      } else {
        content = '{';
        // A key's id is a primitive's: `{"a": 1}` and `["a", 1]` still differ by their bracket.
        for (const k in v) if (Object.hasOwn(v, k)) content += `${this.primitiveId(k)}:${this.idOf((v as Record<string, unknown>)[k])},`;
      }
      this.confIds.set(v, (id = this.intern(content)));
    }
    return id;
  }

  /** Strings, numbers, booleans and null, kept apart by type (the Map compares with SameValueZero). */
  private primitiveId(v: unknown): number {
    let id = this.primitiveIds.get(v);
    if (id === undefined) {
      if (this.primitiveIds.size >= 200_000) this.primitiveIds.clear();
      this.primitiveIds.set(v, (id = ++this.lastId));
    }
    return id;
  }

  /** The id of a part's kind and inputs: by the Part contract, what it builds before plugins. */
  private prefixOf(part: Part): number {
    return this.intern(`${part.kind}\u0000${JSON.stringify(part.inputs)}`);
  }

  private intern(content: string): number {
    let id = this.idsByContent.get(content);
    if (id === undefined) {
      // Bounded: a long-lived translator sees new contents with every change. Ids are never
      // reused, so forgetting contents only costs a rebuild.
      if (this.idsByContent.size >= 200_000) this.idsByContent.clear();
      this.idsByContent.set(content, (id = ++this.lastId));
    }
    return id;
  }

  /** The part's resources for what the plugins configure (`row`, the ids of `confs()`), built once per distinct pair. */
  private build(mesh: string, part: Part, prefix: number, row: Int32Array, confs: () => readonly unknown[]): Built {
    return this.shared.get(`${prefix}|${idKey(row)}`, () => {
      const c = confs();
      const built = this.encode(part, c, row);
      // Registered when built, once per distinct configuration and revision: a slot's builder
      // depends only on the configuration (its shareKey), so any of them rebuilds it alike.
      const slot = part.slot;
      if (slot)
        this.shared.setSlot(mesh, slot.service, built.resources[0]!.shareKey!, (svc) => {
          const next = slot.of(svc);
          return this.build(mesh, next, this.prefixOf(next), row, () => c).resources[0]!;
        });
      return built;
    });
  }

  private encode(part: Part, confs: readonly unknown[], row: Int32Array): Built {
    const drafts = part.build();
    this.plugins.forEach((p, i) => {
      if (confs[i] === undefined) return;
      try {
        p.apply(drafts, confs[i], part);
      } catch (err) {
        throw err instanceof PluginError ? err : new PluginError(p.name, `${p.name}: ${(err as Error).message}`, undefined, { cause: err });
      }
    });
    // A slot is named after its resource while no plugin configures it (one per service, as
    // before policies), and after the configuration otherwise, so each distinct one has its own.
    const configured = confs.some((c) => c !== undefined);
    return {
      resources: drafts.map((d) => {
        try {
          return makeResource(d.typeUrl, d.name, d.body, part.slot ? (configured ? `${d.name}~${digest(confs)}` : d.name) : undefined);
        } catch (err) {
          // What plugins made of a resource does not encode: that proxy's problem, not the process's.
          if (!configured) throw err;
          throw new PluginError('encode', `${d.typeUrl.split('.').pop()} "${d.name}" is not valid Envoy configuration: ${(err as Error).message}`, d.name, { cause: err });
        }
      }),
      namedOnly: drafts.map((d) => d.namedOnly),
      row,
      mask: drafts.reduce((m, d) => m | sectionBit(d.typeUrl, d.namedOnly), 0),
    };
  }
}

/** The ids of what each plugin configured for a part, as a cache key. */
function idKey(row: Int32Array): string {
  let key = '';
  for (let j = 0; j < row.length; j++) key += row[j] === 0 ? ',' : `,${row[j]}`;
  return key;
}

/** One snapshot of the parts' resources. */
function assemble(built: readonly Built[]): Snapshot {
  const resources: XdsResource[] = [];
  const namedOnly: XdsResource[] = [];
  for (const b of built) for (let i = 0; i < b.resources.length; i++) (b.namedOnly[i] ? namedOnly : resources).push(b.resources[i]!);
  return buildSnapshot(resources, namedOnly);
}

/**
 * One snapshot of the parts' resources, keeping the previous snapshot's map of every type (per
 * section) whose resources are all the same objects: streams skip the types whose maps they
 * already pushed. A named-only Listener that moved leaves the served Listeners' map as it was.
 */
function reassemble(previous: Translation, built: readonly Built[]): Snapshot {
  // The sections whose resources moved; whether every moved part kept its sections (then so did the snapshot).
  let touched = 0;
  let sameSections = true;
  for (let i = 0; i < built.length; i++) {
    const b = built[i]!;
    const was = previous.built[i]!;
    if (b === was) continue;
    touched |= b.mask | was.mask;
    if (b.mask !== was.mask) sameSections = false;
  }
  const resources: XdsResource[] = [];
  const namedOnly: XdsResource[] = [];
  for (const b of built) {
    if ((b.mask & touched) === 0) continue;
    for (let i = 0; i < b.resources.length; i++) {
      const r = b.resources[i]!;
      if (touched & sectionBit(r.typeUrl, b.namedOnly[i]!)) (b.namedOnly[i] ? namedOnly : resources).push(r);
    }
  }
  const fresh = buildSnapshot(resources, namedOnly);
  const pick = (t: TypeUrl, section: 'resources' | 'namedOnly') => (touched & sectionBit(t, section === 'namedOnly') ? fresh : previous.snapshot)[section].get(t)!;
  // Types in the order a whole assembly would have them (their first part's): the previous order, if the sections are the same.
  const order = (section: 'resources' | 'namedOnly') => {
    const out = new Map<TypeUrl, ReadonlyMap<string, XdsResource>>();
    if (sameSections) {
      for (const t of previous.snapshot[section].keys()) out.set(t, pick(t, section));
      return out;
    }
    const named = section === 'namedOnly';
    for (const b of built)
      for (let i = 0; i < b.resources.length; i++) {
        const t = b.resources[i]!.typeUrl;
        if (b.namedOnly[i] === named && !out.has(t)) out.set(t, pick(t, section));
      }
    return out;
  };
  return { resources: order('resources'), namedOnly: order('namedOnly') };
}

/** Each type's bit in a Built's `mask`, per section: given out on first sight (a handful of types). */
const sectionBits = [new Map<string, number>(), new Map<string, number>()] as const;
let bitsGiven = 0;
function sectionBit(typeUrl: string, namedOnly: boolean): number {
  const bits = sectionBits[namedOnly ? 1 : 0];
  let bit = bits.get(typeUrl);
  if (bit === undefined) {
    if (bitsGiven >= 31) throw new Error(`too many xDS types for a section mask: ${typeUrl}`);
    bits.set(typeUrl, (bit = 1 << bitsGiven++));
  }
  return bit;
}

/** The proxy's policies, of the types a plugin declares it reads: asking about another is a bug in the plugin. */
class Restricted implements ProxyPolicies {
  readonly toRoute?: (type: string, service: string, route: string) => unknown;
  readonly fromInboundRules?: (type: string, inbound: InboundModel) => ClientRules | undefined;

  constructor(
    private readonly policies: ProxyPolicies,
    private readonly plugin: string,
    private readonly reads: ReadonlySet<string>,
  ) {
    const toRoute = policies.toRoute;
    if (toRoute) this.toRoute = (type, service, route) => toRoute.call(this.check(type), type, service, route);
    const fromInboundRules = policies.fromInboundRules;
    if (fromInboundRules) this.fromInboundRules = (type, inbound) => fromInboundRules.call(this.check(type), type, inbound);
  }

  toService(type: string, service: string): unknown {
    return this.check(type).toService(type, service);
  }

  toAnyService(type: string): unknown {
    return this.check(type).toAnyService(type);
  }

  fromInbound(type: string, inbound: InboundModel): unknown {
    return this.check(type).fromInbound(type, inbound);
  }

  proxy(type: string): unknown {
    return this.check(type).proxy(type);
  }

  /** Every question names its policy type first: one check serves them all. */
  private check(type: string): ProxyPolicies {
    if (!this.reads.has(type)) throw new Error(`translation plugin "${this.plugin}" asked for ${type} rules but does not declare ${type} in its reads`);
    return this.policies;
  }
}

/** An `outboundPure` plugin's context for outbound parts: reading the Dataplane or the view is a bug in the plugin. */
function withoutProxy(ctx: PluginContext, plugin: string): PluginContext {
  const refuse = (field: string) => (): never => {
    throw new Error(`translation plugin "${plugin}" is outboundPure but read ctx.${field} for an outbound part`);
  };
  return Object.defineProperties({ mesh: ctx.mesh, policies: ctx.policies } as PluginContext, { dataplane: { get: refuse('dataplane') }, view: { get: refuse('view') } });
}

const NONE: readonly unknown[] = [];
const digest = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('base64url').slice(0, 22);

/**
 * Translates one Dataplane with the default configurers and no plugins (tests, benchmarks).
 * Services use a long-lived Translator, which carries the shared cache and the plugins.
 */
export function translateDataplane(mesh: string, dataplane: Resource, view: MeshState, shared: SharedCache = new MapSharedCache()): Snapshot {
  return new Translator(shared).translate(mesh, dataplane, view);
}
