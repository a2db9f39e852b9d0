import type { ResourceTypeDescriptor } from '../resources/descriptor.ts';
import { KUMA_GROUP, KUMA_VERSION } from './pod-controller.ts';

/**
 * The `kuma.io` CustomResourceDefinitions, one per type we serve on Kubernetes, made from our
 * descriptors: names, scope, Kuma's short names and printer columns, and an OpenAPI v3 schema
 * for `spec`. The schema is generated from the TypeScript type of the spec that the validators
 * and plugins use (`<Type>Spec`, by ts-json-schema-generator, see deploy/kubernetes/generate.ts),
 * made structural as Kubernetes requires: so the API server prunes unknown fields and checks types
 * and enums, and the validating webhook runs the full validators (ranges, durations, exclusivity).
 * A type without a spec type keeps its spec as given (x-kubernetes-preserve-unknown-fields) and is
 * validated by the webhook alone.
 */

export type JsonSchema = { [k: string]: unknown };

export interface Crd {
  readonly apiVersion: 'apiextensions.k8s.io/v1';
  readonly kind: 'CustomResourceDefinition';
  readonly metadata: { readonly name: string };
  readonly spec: Record<string, unknown>;
}

const PRESERVE: JsonSchema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

export function crdOf(d: ResourceTypeDescriptor, specSchema: JsonSchema | undefined): Crd {
  if (!d.kubernetesScope) throw new Error(`${d.name} is not a Kubernetes custom resource`);
  const properties: Record<string, JsonSchema> = {
    apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
    kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
    metadata: { type: 'object' },
    spec: specSchema ? { ...structural(specSchema), description: `Spec is the specification of the Kuma ${d.name} resource.` } : { ...PRESERVE, description: `Spec is the specification of the Kuma ${d.name} resource (validated by the control plane's webhook).` },
  };
  // Kuma's mesh-scoped objects that are not policies name their mesh beside spec (policies use the kuma.io/mesh label).
  if (d.scope === 'Mesh' && !d.isPolicy) properties['mesh'] = { type: 'string', description: 'The mesh this resource belongs to (default: the kuma.io/mesh label, else default).' };
  const columns = d.isPolicy
    ? [
        { jsonPath: '.spec.targetRef.kind', name: 'TargetRef Kind', type: 'string' },
        { jsonPath: '.spec.targetRef.name', name: 'TargetRef Name', type: 'string' },
      ]
    : [];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${d.plural}.${KUMA_GROUP}` },
    spec: {
      group: KUMA_GROUP,
      names: {
        categories: ['kuma'],
        kind: d.name,
        listKind: `${d.name}List`,
        plural: d.plural,
        ...(d.shortName ? { shortNames: [d.shortName] } : {}),
        singular: d.name.toLowerCase(),
      },
      scope: d.kubernetesScope,
      versions: [
        {
          ...(columns.length ? { additionalPrinterColumns: columns } : {}),
          name: KUMA_VERSION,
          schema: { openAPIV3Schema: { description: `${d.name} is a Kuma resource.`, properties, type: 'object' } },
          served: true,
          storage: true,
        },
      ],
    },
  };
}

/**
 * A JSON Schema (draft 7, as ts-json-schema-generator writes it, every type inlined) made a
 * Kubernetes structural schema: every node has one type; `number | string` is
 * x-kubernetes-int-or-string; other unions are merged (objects: their properties; anything else:
 * kept as given); `unknown` and what cannot be expressed keep their value as given
 * (x-kubernetes-preserve-unknown-fields); `additionalProperties: false` (not allowed) is dropped,
 * pruning does its work; `const` is a one-value enum.
 */
export function structural(s: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  if (typeof s['description'] === 'string') out['description'] = s['description'];
  const variants = (s['anyOf'] ?? s['oneOf']) as JsonSchema[] | undefined;
  if (variants) return { ...merge(variants.map(structural)), ...out };
  if (s['$ref'] !== undefined) return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
  let type = s['type'];
  if (Array.isArray(type)) {
    const t = type.filter((x) => x !== 'null');
    if (t.length === 2 && t.includes('string') && (t.includes('number') || t.includes('integer'))) return { ...out, 'x-kubernetes-int-or-string': true };
    if (t.length !== 1) return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
    type = t[0];
  }
  if (s['const'] !== undefined) return { ...out, type: typeof s['const'] === 'number' ? 'number' : typeof s['const'], enum: [s['const']] };
  if (type === undefined) {
    // `unknown` or `any`: anything goes, kept as given.
    return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
  }
  out['type'] = type;
  if (Array.isArray(s['enum'])) out['enum'] = s['enum'];
  if (type === 'array') out['items'] = s['items'] && !Array.isArray(s['items']) ? structural(s['items'] as JsonSchema) : { 'x-kubernetes-preserve-unknown-fields': true };
  if (type === 'object') {
    const props = s['properties'] as Record<string, JsonSchema> | undefined;
    if (props && Object.keys(props).length > 0) {
      out['properties'] = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, structural(v)]));
      if (Array.isArray(s['required']) && s['required'].length > 0) out['required'] = s['required'];
    } else if (s['additionalProperties'] && typeof s['additionalProperties'] === 'object') {
      out['additionalProperties'] = structural(s['additionalProperties'] as JsonSchema);
    } else out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  return out;
}

/** One schema for a union: int-or-string, an object with every variant's properties, one type, else anything. */
function merge(variants: JsonSchema[]): JsonSchema {
  const types = new Set(variants.map((v) => (v['x-kubernetes-int-or-string'] ? 'int-or-string' : (v['type'] as string | undefined) ?? 'any')));
  if ([...types].every((t) => t === 'int-or-string' || t === 'string' || t === 'number' || t === 'integer') && (types.has('int-or-string') || (types.has('string') && (types.has('number') || types.has('integer'))))) {
    return { 'x-kubernetes-int-or-string': true };
  }
  if (types.size !== 1 || types.has('any')) return { 'x-kubernetes-preserve-unknown-fields': true };
  const [type] = types;
  if (type === 'object') {
    const properties: Record<string, JsonSchema> = {};
    for (const v of variants) Object.assign(properties, v['properties'] as Record<string, JsonSchema> | undefined);
    // Required only what every variant requires.
    const required = variants.map((v) => new Set((v['required'] as string[] | undefined) ?? [])).reduce((a, b) => new Set([...a].filter((x) => b.has(x))));
    if (Object.keys(properties).length === 0) return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    return { type: 'object', properties, ...(required.size ? { required: [...required] } : {}) };
  }
  const enums = variants.every((v) => Array.isArray(v['enum'])) ? [...new Set(variants.flatMap((v) => v['enum'] as unknown[]))] : undefined;
  if (type === 'array') return { type: 'array', items: variants.length === 1 ? variants[0]!['items'] : merge(variants.map((v) => v['items'] as JsonSchema)) };
  return { type, ...(enums ? { enum: enums } : {}) };
}

/**
 * What the API server would do to `value` under `schema`: the paths it would prune (a field the
 * schema does not have) or refuse (a wrong type, a value outside an enum). Empty: taken as it is.
 */
export function schemaViolations(schema: JsonSchema, value: unknown, path = ''): string[] {
  const out: string[] = [];
  check(schema, value, path, out);
  return out;
}

function check(schema: JsonSchema, value: unknown, path: string, out: string[]): void {
  if (schema['x-kubernetes-preserve-unknown-fields'] && !schema['properties']) return;
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !Number.isInteger(value)) out.push(`${path}: not an int or string`);
    return;
  }
  const type = schema['type'];
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : Number.isInteger(value) ? 'integer' : typeof value;
  if (type !== actual && !(type === 'number' && actual === 'integer')) return void out.push(`${path}: ${actual}, the schema says ${String(type)}`);
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) out.push(`${path}: ${JSON.stringify(value)} is not in the enum`);
  if (type === 'array') (value as unknown[]).forEach((v, i) => check(schema['items'] as JsonSchema, v, `${path}[${i}]`, out));
  if (type === 'object') {
    const props = schema['properties'] as Record<string, JsonSchema> | undefined;
    const extra = schema['additionalProperties'] as JsonSchema | undefined;
    for (const [k, v] of Object.entries(value as object)) {
      if (props?.[k]) check(props[k], v, `${path}.${k}`, out);
      else if (extra) check(extra, v, `${path}.${k}`, out);
      else if (!schema['x-kubernetes-preserve-unknown-fields']) out.push(`${path}.${k}: pruned`);
    }
  }
}

