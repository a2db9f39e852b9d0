import type { ResourceTypeDescriptor } from '../../resources/descriptor.ts';
import { Violations, type FieldViolation, type JsonObject } from '../../resources/validation.ts';

/** Every violation of a policy spec, with paths from the resource root (`spec.to[0]...`), as Kuma reports them. */
export function specViolations(d: ResourceTypeDescriptor, spec: Readonly<JsonObject>): readonly FieldViolation[] {
  const v = Violations.root();
  d.validate(spec, v.field('spec'));
  return v.items;
}
