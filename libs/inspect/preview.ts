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
export function previewImpact(views: MeshViews, change: ResourceChangeInput, translator: Translator): ProxyImpact[] {
  const { type, mesh, name } = change;
  const applied = views.apply(type, mesh, name, change.after);
  const view = views.get(mesh);
  const candidates = applied && view ? view.affected(applied) : new Set<string>();
  if (type === 'Dataplane') candidates.add(name);
  const names = [...candidates].sort();
  const after = new Map(names.map((n) => [n, attempt(() => proxyConfig(views, mesh, n, translator))]));
  views.apply(type, mesh, name, change.before);
  return names.map((n) => {
    const a = after.get(n)!;
    const b = attempt(() => proxyConfig(views, mesh, n, translator));
    const error = b.error ?? a.error;
    const changes = error ? [] : diffConfigs(b.config, a.config);
    return { name: n, changed: changes.length > 0, changes, ...(error ? { error } : {}) };
  });
}
