import { expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ResourceTypeDescriptor } from '../resources/descriptor.ts';
import type { JsonObject } from '../resources/validation.ts';
import { specViolations } from '../policies/core/violations.ts';

/** A validator_test.go entry: the spec as YAML and Kuma's expected violations as `field: message` lines, in order. */
export type Case = readonly [name: string, specYaml: string, expected: string];

/** Parses Kuma's expected `violations:` YAML into {field, reason} pairs. */
function expectedOf(text: string): { field: string; reason: string }[] {
  const doc = parse(text) as { violations?: { field: string; message: string }[] } | null;
  return (doc?.violations ?? []).map((x) => ({ field: x.field, reason: x.message }));
}

/** Registers one vitest case per entry: valid specs (expected '') and Kuma's violations, verbatim. */
export function describeCases(d: ResourceTypeDescriptor, valid: readonly (readonly [string, string])[], invalid: readonly Case[]): void {
  for (const [name, yaml] of valid) {
    it(`accepts: ${name}`, () => {
      expect(specViolations(d, (parse(yaml) ?? {}) as JsonObject)).toEqual([]);
    });
  }
  for (const [name, yaml, expected] of invalid) {
    it(`rejects: ${name}`, () => {
      expect(specViolations(d, (parse(yaml) ?? {}) as JsonObject)).toEqual(expectedOf(expected));
    });
  }
}
