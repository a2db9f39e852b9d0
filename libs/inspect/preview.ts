import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { ComputedPolicies } from '../policies/engine/proxy-policies.ts';
import type { MeshViews } from '../mesh-view/mesh-view.ts';
import type { Resource } from '../resources/resource.ts';
import type { Translator } from '../xds/translator.ts';
import { configJson, redactConfig, type ConfigJson } from './config-json.ts';

/** How one xDS resource would change. `patch` (RFC 6902, from the current body to the new one) only for `changed`. */
export interface ResourceChange {
  readonly typeUrl: string;
  readonly name: string;
  readonly op: 'added' | 'removed' | 'changed';
  readonly patch?: readonly Operation[];
}

/** A proxy a change could affect, and what its configuration would become. */
export interface ProxyImpact {
  readonly name: string;
  /** False when the proxy is selected (before or after) but its configuration stays byte-for-byte the same. */
  readonly changed: boolean;
  readonly changes: readonly ResourceChange[];
  /** The configuration cannot be built in one of the two states (e.g. two parts name a resource alike). */
  readonly error?: string;
}

/** The proxy's configuration in `views`, rendered as `_config` renders it (Secrets redacted); undefined when it does not exist there. */
export function proxyConfig(views: MeshViews, mesh: string, name: string, translator: Translator): ConfigJson | undefined {
  const view = views.get(mesh);
  const dp = view?.dataplane(name);
  if (!view?.mesh || !dp) return undefined;
  return redactConfig(configJson(translator.translate(mesh, dp, view, new ComputedPolicies(view, view.dataplaneModel(name)!))));
}

/** Resource by resource, what turns `before` into `after` (sorted by type URL, then name). */
export function diffConfigs(before: ConfigJson | undefined, after: ConfigJson | undefined): ResourceChange[] {
  const out: ResourceChange[] = [];
  const types = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
  for (const typeUrl of types) {
    const b = before?.[typeUrl] ?? {};
    const a = after?.[typeUrl] ?? {};
    for (const name of [...new Set([...Object.keys(b), ...Object.keys(a)])].sort()) {
      if (!(name in b)) out.push({ typeUrl, name, op: 'added' });
      else if (!(name in a)) out.push({ typeUrl, name, op: 'removed' });
      else {
        const patch = jsonpatch.compare(b[name] as object, a[name] as object);
        if (patch.length > 0) out.push({ typeUrl, name, op: 'changed', patch });
      }
    }
  }
  return out;
}

const attempt = (f: () => ConfigJson | undefined): { config?: ConfigJson; error?: string } => {
  try {
    const config = f();
    return config ? { config } : {};
  } catch (err) {
    return { error: (err as Error).message };
  }
};

/** One resource's change: its state before (undefined: absent) and after (undefined: deleted). */
export interface ResourceChangeInput {
  readonly type: string;
  readonly mesh: string;
  readonly name: string;
  readonly before: Resource | undefined;
  readonly after: Resource | undefined;
}

/**
 * What a change would do to each proxy it could affect, in `views` (loaded with the state before
 * it; left as they were). The candidates come from the views (`MeshState.affected`: for a policy,
 * the proxies the selection index says it selects before or after; for a Dataplane, itself and the
 * consumers of the services it changes); each is translated with the change applied, then without,
 * and the two configurations are diffed. One set of views serves both sides: the change is applied
 * and then undone.
 */
export function previewImpact(views: MeshViews, change: ResourceChangeInput | readonly ResourceChangeInput[], translator: Translator): ProxyImpact[] {
  // Several changes (a deletion and what goes with it) apply in order and are undone in reverse.
  const changes = Array.isArray(change) ? (change as readonly ResourceChangeInput[]) : [change as ResourceChangeInput];
  const mesh = changes[0]?.mesh ?? '';
  const candidates = new Set<string>();
  for (const c of changes) {
    const applied = views.apply(c.type, c.mesh, c.name, c.after);
    const view = views.get(c.mesh);
    if (applied && view) for (const n of view.affected(applied)) candidates.add(n);
    if (c.type === 'Dataplane') candidates.add(c.name);
  }
  const names = [...candidates].sort();
  const after = new Map(names.map((n) => [n, attempt(() => proxyConfig(views, mesh, n, translator))]));
  for (const c of [...changes].reverse()) views.apply(c.type, c.mesh, c.name, c.before);
  return names.map((n) => {
    const a = after.get(n)!;
    const b = attempt(() => proxyConfig(views, mesh, n, translator));
    const error = b.error ?? a.error;
    const changes = error ? [] : diffConfigs(b.config, a.config);
    return { name: n, changed: changes.length > 0, changes, ...(error ? { error } : {}) };
  });
}
