/**
 * Writes the kuma.io CustomResourceDefinitions (deploy/kubernetes/crds/kuma.io_<plural>.yaml) from
 * our descriptors and the TypeScript types of their specs: `npm run crds`. A test fails when the
 * files here differ from what this would write (libs/kubernetes/crds.test.ts).
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';
import { stringify } from 'yaml';
import { crdOf, type Crd, type JsonSchema } from '../../../libs/kubernetes/crds.ts';
import { fullRegistry } from '../../../libs/policies/registry.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CRD_DIR = join(ROOT, 'deploy', 'kubernetes', 'crds');

/** Where each type's spec type is: a policy's `<Name>Spec` in its folder's api.ts; the others listed. */
function specSource(name: string): { file: string; type: string } | undefined {
  const policy = join(ROOT, 'libs', 'policies', name.toLowerCase(), 'api.ts');
  if (existsSync(policy)) return { file: policy, type: `${name}Spec` };
  if (name === 'MeshIdentity') return { file: join(ROOT, 'libs', 'ca', 'mesh-identity.ts'), type: 'MeshIdentitySpec' };
  // Mesh, Dataplane, MeshTrust: their spec is validated by the webhook alone.
  return undefined;
}

/** Every CRD, as `[file name, YAML]`. */
export function generateCrds(): [string, string][] {
  const out: [string, string][] = [];
  const generators = new Map<string, ReturnType<typeof createGenerator>>();
  for (const d of fullRegistry().all()) {
    if (!d.kubernetesScope) continue;
    const src = specSource(d.name);
    let schema: JsonSchema | undefined;
    if (src) {
      let g = generators.get(src.file);
      if (!g) generators.set(src.file, (g = createGenerator({ path: src.file, tsconfig: join(ROOT, 'tsconfig.json'), type: '*', skipTypeCheck: true, expose: 'none', topRef: false, additionalProperties: true, jsDoc: 'basic' })));
      schema = g.createSchema(src.type) as JsonSchema;
    }
    const crd: Crd = crdOf(d, schema);
    out.push([`kuma.io_${d.plural}.yaml`, `---\n${stringify(crd, { lineWidth: 0 })}`]);
  }
  return out.sort(([a], [b]) => a.localeCompare(b));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of readdirSync(CRD_DIR)) if (f.endsWith('.yaml')) rmSync(join(CRD_DIR, f));
  for (const [file, text] of generateCrds()) writeFileSync(join(CRD_DIR, file), text);
  process.stdout.write(`wrote ${readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).length} CRDs to ${CRD_DIR}\n`);
}
