import type { ResourceTypeDescriptor } from './descriptor.ts';

/** Thrown when a type, plural or kumactl argument names no registered type. */
export class UnknownTypeError extends Error {
  override readonly name = 'UnknownTypeError';
  constructor(readonly what: string) {
    super(`unknown resource type: ${what}`);
  }
}

/**
 * The set of known resource types. Types are added by explicit `register` calls
 * (see `registerBuiltinTypes`), never as a side effect of importing a module.
 */
export class TypeRegistry {
  private readonly byName = new Map<string, ResourceTypeDescriptor>();
  private readonly byPlural = new Map<string, ResourceTypeDescriptor>();
  private readonly byArg = new Map<string, ResourceTypeDescriptor>();
  private readonly byShortName = new Map<string, ResourceTypeDescriptor>();

  register(d: ResourceTypeDescriptor): void {
    for (const [map, key] of [
      [this.byName, d.name],
      [this.byPlural, d.plural],
      [this.byArg, d.kumactlArg],
      [this.byArg, d.kumactlListArg],
      ...(d.shortName !== undefined ? ([[this.byShortName, d.shortName]] as const) : []),
    ] as const) {
      const existing = map.get(key);
      if (existing && existing !== d) throw new Error(`resource type ${d.name}: "${key}" is already registered by ${existing.name}`);
      map.set(key, d);
    }
  }

  /** By wire type name (`Dataplane`). */
  get(name: string): ResourceTypeDescriptor {
    const d = this.byName.get(name);
    if (!d) throw new UnknownTypeError(name);
    return d;
  }

  find(name: string): ResourceTypeDescriptor | undefined {
    return this.byName.get(name);
  }

  /** By REST plural (`dataplanes`). */
  findByPlural(plural: string): ResourceTypeDescriptor | undefined {
    return this.byPlural.get(plural);
  }

  /** By kumactl argument, singular or plural (`dataplane`, `dataplanes`). */
  findByKumactlArg(arg: string): ResourceTypeDescriptor | undefined {
    return this.byArg.get(arg.toLowerCase());
  }

  /** By KRI short name (`dp`). */
  findByShortName(shortName: string): ResourceTypeDescriptor | undefined {
    return this.byShortName.get(shortName);
  }

  all(): ResourceTypeDescriptor[] {
    return [...this.byName.values()];
  }

  /** The names of the policy types (descriptors with `isPolicy`): what the mesh views keep and match. */
  policyTypeNames(): ReadonlySet<string> {
    return new Set(this.all().filter((d) => d.isPolicy).map((d) => d.name));
  }
}
