import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { ComputedPolicies } from '../policies/engine/proxy-policies.ts';
import type { MeshViews } from '../mesh-view/mesh-view.ts';
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

/**
 * Translates each candidate proxy in the state before and after a change and diffs the two.
 * Candidates come from the views (`MeshState.affected`: the selection index for a policy, the
 * consumers of changed services for a Dataplane). Pure: neither views nor the translator's
 * inputs are mutated (the translator's shared cache only gains entries).
 */
export function impactOf(before: MeshViews, after: MeshViews, mesh: string, candidates: Iterable<string>, translator: Translator): ProxyImpact[] {
  const out: ProxyImpact[] = [];
  for (const name of [...new Set(candidates)].sort()) {
    const b = attempt(() => proxyConfig(before, mesh, name, translator));
    const a = attempt(() => proxyConfig(after, mesh, name, translator));
    const error = b.error ?? a.error;
    const changes = error ? [] : diffConfigs(b.config, a.config);
    out.push({ name, changed: changes.length > 0, changes, ...(error ? { error } : {}) });
  }
  return out;
}
