/**
 * Field-level validation errors in Kuma's notation (`networking.inbound[0].port`).
 * Validators are pure: they collect every violation instead of stopping at the first,
 * so a user sees all reasons in one 400 response.
 */
export interface FieldViolation {
  readonly field: string;
  readonly reason: string;
}

/** Accumulates violations under a path prefix. `field('a').index(0).field('b')` renders `a[0].b`. */
export class Violations {
  private readonly list: FieldViolation[];
  private constructor(
    private readonly prefix: string,
    list: FieldViolation[],
  ) {
    this.list = list;
  }

  static root(): Violations {
    return new Violations('', []);
  }

  field(name: string): Violations {
    return new Violations(this.prefix ? `${this.prefix}.${name}` : name, this.list);
  }

  index(i: number): Violations {
    return new Violations(`${this.prefix}[${i}]`, this.list);
  }

  /** `key` is rendered as `prefix["key"]`, as Kuma does for map keys such as tags. */
  key(k: string): Violations {
    return new Violations(`${this.prefix}[${JSON.stringify(k)}]`, this.list);
  }

  add(reason: string): void {
    this.list.push({ field: this.prefix, reason });
  }

  get path(): string {
    return this.prefix;
  }

  get items(): readonly FieldViolation[] {
    return this.list;
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

/** Thrown when a resource (or request) is invalid; carries every violation. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly violations: readonly FieldViolation[],
    message = 'Resource is not valid',
  ) {
    super(message);
  }
}

export type JsonObject = { [key: string]: unknown };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
