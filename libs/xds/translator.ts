import { createHash } from 'node:crypto';
import type { MeshState } from '../mesh-view/mesh-view.ts';
import { dataplaneModel } from '../resources/dataplane-model.ts';
import type { Resource } from '../resources/resource.ts';
import { generateAdmin } from './generate/admin.ts';
import { MapSharedCache, type ProxyContext, type SharedCache } from './generate/context.ts';
import { generateInbounds } from './generate/inbound.ts';
import { generateOutbounds } from './generate/outbound.ts';
import type { Part } from './generate/part.ts';
import { NO_POLICIES, type PluginContext, type ProxyPolicies, type TranslationPlugin } from './generate/plugin.ts';
import { generateTransparentProxy } from './generate/transparent.ts';
import { PluginError } from './plugin-error.ts';
import { makeResource, type XdsResource } from './resource.ts';
import { buildSnapshot, type Snapshot } from './snapshot.ts';

/** One aspect of a proxy's configuration: the parts it consists of. Configurers are pure and independent of each other. */
export type Configurer = (ctx: ProxyContext) => Part[];

export const DEFAULT_CONFIGURERS: readonly Configurer[] = [generateInbounds, generateOutbounds, generateTransparentProxy, generateAdmin];

/** A part's resources, and which of them are served only by name. */
interface Built {
  readonly resources: readonly XdsResource[];
  readonly namedOnly: readonly boolean[];
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
 */
export class Translator {
  private readonly plugins: readonly TranslationPlugin[];

  constructor(
    readonly shared: SharedCache = new MapSharedCache(),
    plugins: readonly TranslationPlugin[] = [],
    private readonly configurers: readonly Configurer[] = DEFAULT_CONFIGURERS,
  ) {
    this.plugins = [...plugins].sort((a, b) => a.order - b.order);
  }

  /** One proxy's snapshot, with the policies that apply to it. Throws ResourceCollisionError when two parts name a resource alike, PluginError when a plugin cannot configure one. */
  translate(mesh: string, dataplane: Resource, view: MeshState, policies: ProxyPolicies = NO_POLICIES): Snapshot {
    const model = dataplaneModel(dataplane);
    const ctx: ProxyContext = { mesh, dataplane, model, view };
    const pctx: PluginContext = { mesh, dataplane: model, view, policies };
    const resources: XdsResource[] = [];
    const namedOnly: XdsResource[] = [];
    const parts = this.configurers.flatMap((configurer) => configurer(ctx));
    for (const plugin of this.plugins) if (plugin.parts) parts.push(...plugin.parts(parts, pctx));
    for (const part of parts) {
      const built = this.build(mesh, part, this.plugins.length === 0 ? NONE : this.plugins.map((p) => p.configure(part, pctx)));
      for (let i = 0; i < built.resources.length; i++) (built.namedOnly[i] ? namedOnly : resources).push(built.resources[i]!);
    }
    return buildSnapshot(resources, namedOnly);
  }

  /**
   * The resources of parts that no particular proxy consumes (what a proxyless client asking for
   * a service by name gets), all served by name only. Plugins configure them for no proxy: they
   * carry only what holds for every consumer (nothing, until mesh-wide rules exist).
   */
  translateParts(mesh: string, parts: readonly Part[]): Snapshot {
    const confs = this.plugins.length === 0 ? NONE : this.plugins.map(() => undefined);
    return buildSnapshot([], parts.flatMap((part) => this.build(mesh, part, confs).resources));
  }

  /** Objects seen in plugin configurations, by identity: the id of their content (see `keyOf`). */
  private readonly confIds = new WeakMap<object, number>();
  private readonly idsByContent = new Map<string, number>();
  private lastConfId = 0;

  /**
   * A short key for what the plugins configured. The policy engine hands the same rule objects
   * to every proxy its rules are shared with, and plugins wrap them in small fresh objects: an
   * object seen before is its id, a new one is keyed by its fields with their children's ids, so
   * content is serialised once, not once per part and proxy. Equal content gets the same id,
   * whatever object carries it. Plugins must not modify a value once they returned it.
   */
  private confKey(confs: readonly unknown[]): string {
    let key = '';
    for (const c of confs) key += c === undefined ? ',' : `,${this.keyOf(c)}`;
    return key;
  }

  private keyOf(v: unknown): string {
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'u';
    let id = this.confIds.get(v);
    if (id === undefined) {
      const content = Array.isArray(v)
        ? `[${v.map((x) => this.keyOf(x)).join(',')}]`
        : `{${Object.keys(v)
            .map((k) => `${JSON.stringify(k)}:${this.keyOf((v as Record<string, unknown>)[k])}`)
            .join(',')}}`;
      id = this.idsByContent.get(content);
      if (id === undefined) {
        // Bounded: a long-lived translator sees new contents with every policy change. Ids are
        // never reused, so forgetting contents only costs a rebuild.
        if (this.idsByContent.size >= 200_000) this.idsByContent.clear();
        this.idsByContent.set(content, (id = ++this.lastConfId));
      }
      this.confIds.set(v, id);
    }
    return `#${id}`;
  }

  private build(mesh: string, part: Part, confs: readonly unknown[]): Built {
    const key = `${part.kind}\u0000${JSON.stringify(part.inputs)}\u0000${confs.length === 0 ? '' : this.confKey(confs)}`;
    return this.shared.get(key, () => {
      const built = this.encode(part, confs);
      // Registered when built, once per distinct configuration and revision: a slot's builder
      // depends only on the configuration (its shareKey), so any of them rebuilds it alike.
      const slot = part.slot;
      if (slot) this.shared.setSlot(mesh, slot.service, built.resources[0]!.shareKey!, (svc) => this.build(mesh, slot.of(svc), confs).resources[0]!);
      return built;
    });
  }

  private encode(part: Part, confs: readonly unknown[]): Built {
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
    };
  }
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
