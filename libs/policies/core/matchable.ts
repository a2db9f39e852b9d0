/**
 * The shapes the policy engine matches over. They are deliberately small so the project's typed Dataplane model
 * and stored policy resources satisfy them structurally; the engine never parses or fetches anything itself.
 */
import type { ProxyType, TargetRef } from './target-ref.ts';

/** Label and tag names the engine reads (Kuma's mesh_proto constants). */
export const LABEL = Object.freeze({
  service: 'kuma.io/service',
  origin: 'kuma.io/origin',
  zone: 'kuma.io/zone',
  role: 'kuma.io/policy-role',
  effect: 'kuma.io/effect',
  displayName: 'kuma.io/display-name',
  mesh: 'kuma.io/mesh',
  namespace: 'k8s.kuma.io/namespace',
});

/** One inbound of a dataplane. `state: 'Ignored'` inbounds are skipped by tag selection (Kuma's inboundsSelectedByTags). */
export interface MatchableInbound {
  readonly port: number;
  readonly address?: string;
  readonly name?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly state?: string;
}

/** A dataplane as the matcher sees it. `gateway` is set for gateway proxies (`proxyType: 'Gateway'`). */
export interface MatchableDataplane {
  readonly mesh: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly proxyType: ProxyType;
  readonly address?: string;
  readonly inbounds: readonly MatchableInbound[];
  readonly gateway?: { readonly type: 'BUILTIN' | 'DELEGATED'; readonly tags: Readonly<Record<string, string>> };
}

/** A builtin gateway's MeshGateway resource, as far as selection needs it. */
export interface MatchableMeshGateway {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly listeners: readonly { readonly port: number; readonly hostname?: string; readonly tags?: Readonly<Record<string, string>> }[];
}

/** A `rules[]` match (api/common/v1alpha1/match.go). */
export interface RuleMatch {
  readonly spiffeID?: { readonly type: 'Exact' | 'Prefix'; readonly value: string };
  readonly sni?: { readonly type: 'Exact'; readonly value: string };
}

export interface ToItem {
  readonly targetRef: TargetRef;
  readonly default?: unknown;
  readonly [field: string]: unknown;
}
export interface FromItem {
  readonly targetRef: TargetRef;
  readonly default?: unknown;
}
export interface RuleItem {
  readonly matches?: readonly RuleMatch[];
  readonly default?: unknown;
}

/** A targetRef policy. `spec.targetRef` omitted means `{kind: Mesh}`. */
export interface PolicyItem {
  readonly type: string;
  readonly name: string;
  readonly mesh: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly spec: {
    readonly targetRef?: TargetRef;
    readonly to?: readonly ToItem[];
    readonly from?: readonly FromItem[];
    readonly rules?: readonly RuleItem[];
    readonly default?: unknown;
  };
}

export type Origin = 'global' | 'unknown' | 'zone';
export type PolicyRole = 'system' | 'producer' | 'consumer' | 'workload-owner';

const ORIGIN_ORDER: Readonly<Record<Origin, number>> = { global: 0, unknown: 1, zone: 2 };
const ROLE_ORDER: Readonly<Record<PolicyRole, number>> = { system: 0, producer: 1, consumer: 2, 'workload-owner': 3 };

/** `kuma.io/origin`: `global`, `zone`, or `unknown` when absent or anything else. */
export function originOf(p: { readonly labels?: Readonly<Record<string, string>> }): Origin {
  const o = p.labels?.[LABEL.origin];
  return o === 'global' || o === 'zone' ? o : 'unknown';
}

/** `kuma.io/policy-role`; absent (always the case on Universal) means `system`. */
export function roleOf(p: { readonly labels?: Readonly<Record<string, string>> }): PolicyRole {
  const r = p.labels?.[LABEL.role];
  return r === 'producer' || r === 'consumer' || r === 'workload-owner' ? r : 'system';
}

export const compareOrigin = (a: Origin, b: Origin): number => ORIGIN_ORDER[a] - ORIGIN_ORDER[b];
export const compareRole = (a: PolicyRole, b: PolicyRole): number => ROLE_ORDER[a] - ROLE_ORDER[b];

/** Kuma's GetDisplayName: the `kuma.io/display-name` label, else the resource name. */
export function displayNameOf(r: { readonly name: string; readonly labels?: Readonly<Record<string, string>> }): string {
  return r.labels?.[LABEL.displayName] ?? r.name;
}

/** The top-level targetRef with Kuma's default. */
export function topTargetRef(p: PolicyItem): TargetRef {
  return p.spec.targetRef ?? { kind: 'Mesh' };
}

/**
 * Kuma's TagSelector.Matches: every selector tag is present in `tags` with the same value, or with any value when the
 * selector says `*`. An empty or absent selector matches anything.
 */
export function tagsMatch(selector: Readonly<Record<string, string>> | undefined, tags: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const k in selector) {
    const want = selector[k];
    const have = tags[k];
    if (have === undefined || (want !== have && want !== '*')) return false;
  }
  return true;
}
