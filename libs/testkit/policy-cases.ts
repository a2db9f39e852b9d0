import { expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ResourceTypeDescriptor } from '../resources/descriptor.ts';
import type { JsonObject } from '../resources/validation.ts';
import { specViolations } from '../policies/core/violations.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaViolations, type JsonSchema } from '../kubernetes/crds.ts';

/** The `spec` schema of a type's committed CRD (deploy/kubernetes/crds). */
function crdSpecSchema(d: ResourceTypeDescriptor): JsonSchema {
  const crd = parse(readFileSync(join(import.meta.dirname, '..', '..', 'deploy', 'kubernetes', 'crds', `kuma.io_${d.plural}.yaml`), 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: JsonSchema } } } }[] } };
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec;
}

/** A validator_test.go entry: the spec as YAML and Kuma's expected violations as `field: message` lines, in order. */
export type Case = readonly [name: string, specYaml: string, expected: string];

/** Parses Kuma's expected `violations:` YAML into {field, reason} pairs. */
function expectedOf(text: string): { field: string; reason: string }[] {
  const doc = parse(text) as { violations?: { field: string; message: string }[] } | null;
  return (doc?.violations ?? []).map((x) => ({ field: x.field, reason: x.message }));
}

/**
 * Registers one vitest case per entry: valid specs (expected '') and Kuma's violations, verbatim.
 * A valid spec must also pass the type's CRD schema with nothing pruned, so `kubectl apply` of it
 * reaches the validating webhook as written.
 */
export function describeCases(d: ResourceTypeDescriptor, valid: readonly (readonly [string, string])[], invalid: readonly Case[]): void {
  for (const [name, yaml] of valid) {
    it(`accepts: ${name}`, () => {
      const spec = (parse(yaml) ?? {}) as JsonObject;
      expect(specViolations(d, spec)).toEqual([]);
      if (d.kubernetesScope) expect(schemaViolations(crdSpecSchema(d), spec, 'spec'), 'the CRD schema').toEqual([]);
    });
  }
  for (const [name, yaml, expected] of invalid) {
    it(`rejects: ${name}`, () => {
      expect(specViolations(d, (parse(yaml) ?? {}) as JsonObject)).toEqual(expectedOf(expected));
    });
  }
}
