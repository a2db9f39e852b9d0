/**
 * Kuma's dataplane token revocation: the Secret `dataplane-token-revocations-<mesh>` in the mesh
 * holds the revoked tokens' ids (`jti`), comma- or newline-separated, base64 as every Secret's data.
 * A revoked token is refused from then on, and streams already opened with it are closed.
 */
export const REVOCATIONS_SECRET = (mesh: string) => `dataplane-token-revocations-${mesh}`;

/** Reads a mesh's revocation Secret: its data (base64) and a version that changes with it. */
export type RevocationSource = (mesh: string) => { readonly data: string; readonly version: number } | undefined;

export class Revocations {
  private readonly parsed = new Map<string, { version: number; ids: ReadonlySet<string> }>();
  /** Per mesh: the live holders of a token, by jti (with the serial of the key that signed it). */
  private readonly watchers = new Map<string, Map<string, Set<Holder>>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: RevocationSource,
    /** How often live holders are checked against the Secret (only meshes with holders are looked at). */
    private readonly checkEveryMs = 1000,
    /** Whether the signing key of a serial still exists: a token whose key is deleted is no longer valid either. */
    private readonly keyExists?: (serial: number) => boolean,
  ) {}

  /** The revoked ids of a mesh (parsed once per Secret version). */
  revokedIn(mesh: string): ReadonlySet<string> {
    const s = this.source(mesh);
    if (!s) return EMPTY;
    let p = this.parsed.get(mesh);
    if (!p || p.version !== s.version) {
      const text = Buffer.from(s.data, 'base64').toString('utf8');
      p = { version: s.version, ids: new Set(text.split(/[\s,]+/).filter((x) => x !== '')) };
      this.parsed.set(mesh, p);
    }
    return p.ids;
  }

  isRevoked(mesh: string, jti: string): boolean {
    return this.revokedIn(mesh).has(jti);
  }

  /** Calls `onRevoked` if the token `jti` of `mesh` gets revoked (or its signing key `kid` deleted) while held; returns the release. */
  watch(mesh: string, jti: string, onRevoked: (why: string) => void, kid?: number): () => void {
    let byJti = this.watchers.get(mesh);
    if (!byJti) this.watchers.set(mesh, (byJti = new Map()));
    let set = byJti.get(jti);
    if (!set) byJti.set(jti, (set = new Set()));
    const holder: Holder = { fn: onRevoked, ...(kid !== undefined ? { kid } : {}) };
    set.add(holder);
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), this.checkEveryMs);
      this.timer.unref();
    }
    return () => {
      set.delete(holder);
      if (set.size === 0) byJti.delete(jti);
      if (byJti.size === 0) this.watchers.delete(mesh);
      if (this.watchers.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private check(): void {
    const gone = new Map<number, boolean>();
    const keyGone = (kid: number) => {
      let g = gone.get(kid);
      if (g === undefined) gone.set(kid, (g = this.keyExists ? !this.keyExists(kid) : false));
      return g;
    };
    for (const [mesh, byJti] of this.watchers) {
      const revoked = this.revokedIn(mesh);
      for (const [jti, set] of byJti)
        for (const h of [...set]) {
          if (revoked.has(jti)) h.fn('revoked');
          else if (h.kid !== undefined && keyGone(h.kid)) h.fn(`its signing key ${h.kid} was deleted`);
        }
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

const EMPTY: ReadonlySet<string> = new Set();

interface Holder {
  readonly fn: (why: string) => void;
  readonly kid?: number;
}
