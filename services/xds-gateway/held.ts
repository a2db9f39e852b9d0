import type { XdsResource } from '../../libs/xds/resource.ts';

/**
 * What a delta proxy holds of one type: name -> version (content hash). Nearly always that is
 * exactly one snapshot's map of the type (what was pushed and acknowledged), so it is kept as
 * a reference to that immutable map plus the differences, not as a copy per stream: the copies
 * (four maps of ~20 entries per proxy) were ~4 KB of a gateway's memory per stream.
 */
export class Held {
  /** A snapshot map whose every resource the proxy holds at its hash, unless `diff` says otherwise. */
  private base: ReadonlyMap<string, XdsResource> | undefined;
  /** Versions that differ from `base` (null: not held although `base` has it). */
  private diff: Map<string, string | null> | undefined;

  constructor(initial: Record<string, string> = {}) {
    for (const [name, version] of Object.entries(initial)) (this.diff ??= new Map()).set(name, version);
  }

  get(name: string): string | undefined {
    if (this.diff?.has(name)) return this.diff.get(name) ?? undefined;
    return this.base?.get(name)?.hash;
  }

  /** The proxy now holds `version` of `name` (null: it no longer holds it). */
  set(name: string, version: string | null): void {
    if (version === (this.base?.get(name)?.hash ?? null)) {
      this.diff?.delete(name);
      if (this.diff?.size === 0) this.diff = undefined;
    } else (this.diff ??= new Map()).set(name, version);
  }

  /** Calls `fn` with every name held. */
  forEach(fn: (name: string) => void): void {
    if (this.base) for (const name of this.base.keys()) if (!this.diff?.has(name)) fn(name);
    if (this.diff) for (const [name, version] of this.diff) if (version !== null) fn(name);
  }

  /** When what is held is exactly `map` (the same names at the same hashes), holds it by reference. */
  rebase(map: ReadonlyMap<string, XdsResource> | undefined): void {
    if (!map || (map === this.base && !this.diff)) return;
    let held = 0;
    this.forEach(() => held++);
    if (held !== map.size) return;
    for (const [name, r] of map) if (this.get(name) !== r.hash) return;
    this.base = map;
    this.diff = undefined;
  }
}
