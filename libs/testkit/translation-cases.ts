import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import { MeshViews } from '../mesh-view/mesh-view.ts';
import type { InboundModel } from '../resources/dataplane-model.ts';
import { defaultRegistry } from '../resources/builtin.ts';
import type { Resource } from '../resources/resource.ts';
import { decodeResource } from '../resources/wire.ts';
import type { ClientRules, ProxyPolicies, TranslationPlugin } from '../xds/generate/plugin.ts';
import { TYPE_ORDER } from '../xds/protos.ts';
import { decodeToObject, strictDiff } from '../xds/resource.ts';
import type { Snapshot } from '../xds/snapshot.ts';
import { Translator } from '../xds/translator.ts';
import { expectGolden } from './golden.ts';

/**
 * A translation test case (`testdata/<case>.input.yaml`): the mesh's resources, the proxy to
 * translate, and optionally the merged policy configurations that apply to it, as the policy
 * engine would hand them to plugins:
 *
 * ```yaml
 * proxy: web-1
 * resources: [ {type: Mesh, name: default}, {type: Dataplane, mesh: default, name: web-1, networking: ...} ]
 * policies:
 *   toService: { MeshTimeout: { backend: { connectionTimeout: 2s } } }
 *   toAnyService: { MeshAccessLog: { backends: [...] } }            # to[] items targeting the Mesh
 *   toRoute: { MeshTimeout: { backend: { route-1: { http: { requestTimeout: 1s } } } } }
 *   fromInbound: { MeshTimeout: { "8080": { idleTimeout: 1h } } }    # by inbound port
 *   proxy: { MeshTrace: { backends: [...] } }
 *   fromInboundRules: { MeshTrafficPermission: { "8080": { rules: [...], subsets: [...] } } }
 * ```
 */
interface CaseFile {
  readonly proxy: string;
  readonly resources: unknown[];
  readonly policies?: {
    readonly toService?: Record<string, Record<string, unknown>>;
    readonly toAnyService?: Record<string, unknown>;
    readonly toRoute?: Record<string, Record<string, Record<string, unknown>>>;
    readonly fromInbound?: Record<string, Record<string, unknown>>;
    readonly proxy?: Record<string, unknown>;
    /** Per-client rules of an inbound (MeshTrafficPermission), by type and inbound port. */
    readonly fromInboundRules?: Record<string, Record<string, ClientRules>>;
  };
}

const registry = defaultRegistry();

/** The policies of a case as a ProxyPolicies (plain lookups). */
export function casePolicies(p: CaseFile['policies'] = {}): ProxyPolicies {
  return {
    toService: (type, service) => p.toService?.[type]?.[service],
    toAnyService: (type) => p.toAnyService?.[type],
    toRoute: (type, service, route) => p.toRoute?.[type]?.[service]?.[route],
    fromInbound: (type, inbound: InboundModel) => p.fromInbound?.[type]?.[String(inbound.port)],
    proxy: (type) => p.proxy?.[type],
    fromInboundRules: (type, inbound: InboundModel) => p.fromInboundRules?.[type]?.[String(inbound.port)],
  };
}

/** Loads a case: the mesh views with its resources, and the proxy's Dataplane. */
export function loadCase(path: string): { mesh: string; views: MeshViews; dataplane: Resource; policies: ProxyPolicies; file: CaseFile } {
  const file = parse(readFileSync(path, 'utf8')) as CaseFile;
  const views = new MeshViews();
  let dataplane: Resource | undefined;
  file.resources.forEach((raw, i) => {
    const input = decodeResource(raw, registry);
    const r: Resource = {
      meta: { type: input.type, ...(input.mesh ? { mesh: input.mesh } : {}), name: input.name, labels: input.labels, creationTime: 'x', modificationTime: 'x', version: i + 1 },
      spec: input.spec,
    };
    views.apply(r.meta.type, r.meta.mesh, r.meta.name, r);
    if (r.meta.type === 'Dataplane' && r.meta.name === file.proxy) dataplane = r;
  });
  if (!dataplane) throw new Error(`${path}: no Dataplane named ${file.proxy}`);
  return { mesh: dataplane.meta.mesh!, views, dataplane, policies: casePolicies(file.policies), file };
}

/** A snapshot as golden YAML (decoded through Envoy's schema), checking every resource strictly against it. */
export function snapshotYaml(snapshot: Snapshot): string {
  const out: Record<string, unknown> = {};
  for (const [section, maps] of [['resources', snapshot.resources], ['namedOnly', snapshot.namedOnly]] as const) {
    for (const typeUrl of TYPE_ORDER) {
      const byName = maps.get(typeUrl);
      if (!byName || byName.size === 0) continue;
      const sorted = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
      for (const r of sorted) expect(strictDiff(typeUrl, r.body as Record<string, unknown>), `${r.name} is not valid for Envoy`).toEqual([]);
      out[`${section} ${typeUrl}`] = Object.fromEntries(sorted.map((r) => [r.name, decodeToObject(typeUrl, r.bytes)]));
    }
  }
  return stringify(out, { lineWidth: 0 });
}

/**
 * Every `<dir>/<case>.input.yaml` translated with `plugins`, as `[case, run]`: `run()` compares
 * the output with `<case>.golden.yaml` (UPDATE_GOLDEN=1 rewrites it). Use with vitest's `it`.
 */
export function translationCases(dir: string, plugins: readonly TranslationPlugin[] = []): [string, () => void][] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.input.yaml'))
    .map((f) => {
      const name = f.replace('.input.yaml', '');
      return [
        name,
        () => {
          const { mesh, views, dataplane, policies } = loadCase(join(dir, f));
          const snapshot = new Translator(undefined, plugins).translate(mesh, dataplane, views.get(mesh)!, policies);
          expectGolden(join(dir, `${name}.golden.yaml`), snapshotYaml(snapshot));
        },
      ];
    });
}
