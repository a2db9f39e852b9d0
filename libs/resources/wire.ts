import type { ResourceTypeDescriptor } from './descriptor.ts';
import { kriOf } from './kri.ts';
import { validateLabels, validateMeshRef, validateName } from './names.ts';
import type { TypeRegistry } from './registry.ts';
import { UnknownTypeError } from './registry.ts';
import type { Resource } from './resource.ts';
import { isObject, ValidationError, Violations, type JsonObject } from './validation.ts';

/** What a client asks to store: identity, labels and spec, validated. */
export interface ResourceInput {
  readonly type: string;
  readonly mesh?: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: Readonly<JsonObject>;
}

/** Fields that are not spec; `kri` is computed, so a resource read back (`kumactl get -o yaml`) applies as is. */
const META_FIELDS = ['type', 'mesh', 'name', 'labels', 'creationTime', 'modificationTime', 'kri'];

/** Identity that the request (URL) already fixes; the body must agree with it. */
export interface ExpectedIdentity {
  readonly type?: string;
  readonly mesh?: string;
  readonly name?: string;
}

/**
 * Decodes and validates a universal-format resource body (Kuma's REST and `kumactl apply` shape).
 * Throws ValidationError with every violation, or UnknownTypeError for an unknown `type`.
 */
export function decodeResource(body: unknown, registry: TypeRegistry, expected: ExpectedIdentity = {}): ResourceInput {
  const v = Violations.root();
  if (!isObject(body)) {
    v.add('resource must be an object');
    throw new ValidationError(v.items);
  }
  // When the URL fixes the type, a body that disagrees is a violation like any other (Kuma's
  // validateResourceRequest), not an unknown type; the URL's type is then validated.
  const bodyType = body['type'];
  let d: ResourceTypeDescriptor | undefined;
  if (expected.type !== undefined) {
    if (bodyType !== expected.type) v.field('type').add('type from the URL has to be the same as in body');
    d = registry.get(expected.type);
  } else {
    if (typeof bodyType !== 'string' || bodyType === '') {
      v.field('type').add('cannot be empty');
      throw new ValidationError(v.items);
    }
    d = registry.find(bodyType);
    if (!d) throw new UnknownTypeError(bodyType);
  }

  // Every violation of the identity is reported together with the spec's, in one answer.
  const name = body['name'] ?? expected.name;
  if (expected.name !== undefined && name !== expected.name) v.field('name').add('name from the URL has to be the same as in body');
  validateName(name, v.field('name'));

  let mesh: string | undefined;
  if (d.scope === 'Mesh') {
    const m = body['mesh'] ?? expected.mesh;
    if (expected.mesh !== undefined && m !== expected.mesh) v.field('mesh').add('mesh from the URL has to be the same as in body');
    if (validateMeshRef(m, v.field('mesh'))) mesh = m;
  } else if (body['mesh'] !== undefined) {
    v.field('mesh').add(`must not be set: ${d.name} is not a mesh-scoped resource`);
  }

  validateLabels(body['labels'], v.field('labels'));

  let spec: JsonObject;
  if (d.specLayout === 'inline') {
    spec = {};
    for (const [k, val] of Object.entries(body)) if (!META_FIELDS.includes(k)) spec[k] = val;
  } else {
    for (const k of Object.keys(body)) if (!META_FIELDS.includes(k) && k !== 'spec') v.field(k).add('unknown field');
    const s = body['spec'] ?? {};
    if (!isObject(s)) {
      v.field('spec').add('must be an object');
      spec = {};
    } else spec = s;
  }
  d.validate(spec, d.specLayout === 'inline' ? v : v.field('spec'));
  if (!v.empty) throw new ValidationError(v.items);
  return {
    type: d.name,
    ...(mesh !== undefined ? { mesh } : {}),
    name: name as string,
    labels: { ...((body['labels'] as Record<string, string> | undefined) ?? {}) },
    spec,
  };
}

/**
 * Renders a stored resource in the universal JSON shape Kuma's REST API returns, in Kuma's field
 * order: type, mesh, name, creationTime, modificationTime, labels (keys sorted), kri, then the spec.
 */
export function encodeResource(r: Resource, d: ResourceTypeDescriptor): JsonObject {
  const out: JsonObject = { type: r.meta.type };
  if (r.meta.mesh !== undefined) out['mesh'] = r.meta.mesh;
  out['name'] = r.meta.name;
  out['creationTime'] = r.meta.creationTime;
  out['modificationTime'] = r.meta.modificationTime;
  // Kuma's labels are a Go map, which encoding/json writes with its keys sorted.
  const labelKeys = Object.keys(r.meta.labels).sort();
  if (labelKeys.length > 0) out['labels'] = Object.fromEntries(labelKeys.map((k) => [k, r.meta.labels[k]!]));
  const kri = kriOf(r.meta, d);
  if (kri !== undefined) out['kri'] = kri;
  if (d.specLayout === 'inline') Object.assign(out, r.spec);
  else out['spec'] = r.spec;
  return out;
}

/**
 * The `warnings` of Kuma's PUT answer for a valid resource: the type's deprecations, one entry
 * each, as Kuma 2.14's model.Deprecations returns them (no summary line: that was only ever
 * proposed, kumahq/kuma#13060, and not merged). Empty when nothing is deprecated.
 */
export function warningsFor(d: ResourceTypeDescriptor, input: ResourceInput): string[] {
  return [...(d.deprecations?.(input) ?? [])];
}
