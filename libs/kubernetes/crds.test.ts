import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CRD_DIR, generateCrds } from '../../deploy/kubernetes/generate.ts';
import { fullRegistry } from '../policies/registry.ts';
import { schemaViolations, type JsonSchema } from './crds.ts';

/**
 * The committed CRDs are what the generator writes (run `npm run crds` after changing a spec
 * type) and every schema node is structural as Kubernetes requires. (Every valid example of
 * every policy's validator tests also passes its CRD's schema with nothing pruned:
 * libs/testkit/policy-cases.ts.)
 */
const generated = generateCrds();
const schemaOf = (kind: string): JsonSchema => {
  const text = generated.find(([, t]) => (parse(t) as { spec: { names: { kind: string } } }).spec.names.kind === kind)![1];
  return (parse(text) as { spec: { versions: { schema: { openAPIV3Schema: JsonSchema } }[] } }).spec.versions[0]!.schema.openAPIV3Schema;
};

function structuralViolations(s: JsonSchema, path: string, out: string[]): void {
  for (const bad of ['$ref', 'anyOf', 'oneOf', 'allOf', 'definitions', '$schema', 'const']) if (bad in s) out.push(`${path}: ${bad}`);
  if (s['additionalProperties'] === false || s['additionalProperties'] === true) out.push(`${path}: additionalProperties boolean`);
  if (s['properties'] && s['additionalProperties']) out.push(`${path}: both properties and additionalProperties`);
  if (!s['type'] && !s['x-kubernetes-preserve-unknown-fields'] && !s['x-kubernetes-int-or-string']) out.push(`${path}: no type`);
  for (const [k, v] of Object.entries((s['properties'] as Record<string, JsonSchema>) ?? {})) structuralViolations(v, `${path}.${k}`, out);
  if (s['items']) structuralViolations(s['items'] as JsonSchema, `${path}[]`, out);
  if (s['additionalProperties'] && typeof s['additionalProperties'] === 'object') structuralViolations(s['additionalProperties'] as JsonSchema, `${path}{}`, out);
}

describe('kuma.io CRDs', () => {
  it('are committed as the generator writes them (npm run crds)', () => {
    const files = readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(generated.map(([f]) => f));
    for (const [file, text] of generated) expect(readFileSync(join(CRD_DIR, file), 'utf8'), file).toBe(text);
  });

  it('cover every type served on Kubernetes, with Kuma names', () => {
    const kinds = generated.map(([, t]) => (parse(t) as { spec: { names: { kind: string } } }).spec.names.kind);
    expect(kinds.sort()).toEqual(fullRegistry().all().filter((d) => d.kubernetesScope).map((d) => d.name).sort());
    const mt = parse(generated.find(([f]) => f === 'kuma.io_meshtimeouts.yaml')![1]) as { metadata: { name: string }; spec: { names: { shortNames: string[] }; scope: string } };
    expect(mt.metadata.name).toBe('meshtimeouts.kuma.io');
    expect(mt.spec.names.shortNames).toEqual(['mt']);
    expect(mt.spec.scope).toBe('Namespaced');
  });

  it('are structural schemas', () => {
    const out: string[] = [];
    for (const [file, text] of generated) structuralViolations((parse(text) as { spec: { versions: { schema: { openAPIV3Schema: JsonSchema } }[] } }).spec.versions[0]!.schema.openAPIV3Schema, file, out);
    expect(out).toEqual([]);
  });

  it('prune what no spec type has, and refuse a kind the targetRef does not know', () => {
    const spec = (schemaOf('MeshTimeout')['properties'] as Record<string, JsonSchema>)['spec']!;
    expect(schemaViolations(spec, { targetRef: { kind: 'Pod' }, to: [{ targetRef: { kind: 'Mesh' }, default: { idleTimeout: '1s', idleTimout: '2s' } }] }, 'spec')).toEqual(['spec.targetRef.kind: "Pod" is not in the enum', 'spec.to[0].default.idleTimout: pruned']);
  });
});
