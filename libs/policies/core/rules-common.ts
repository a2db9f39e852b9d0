/** What every computed rule carries: the merged conf(s) and where they came from. */
import type { PolicyItem } from './matchable.ts';

/** One contributing entry: the policy (type/mesh/name) and the index of the `to[]`/`from[]`/`rules[]` item (0 for `default`). */
export interface RuleOrigin {
  readonly type: string;
  readonly mesh: string;
  readonly name: string;
  readonly ruleIndex: number;
}

/**
 * A merged rule. `conf` is what `mergeConfs` returned: one conf, or one per `mergeValues` group (MeshHTTPRoute
 * hostnames); empty when nothing applies. `origin` lists the contributing entries in merge order (lowest priority first).
 */
export interface Rule {
  readonly conf: readonly unknown[];
  readonly origin: readonly RuleOrigin[];
}

export const originOfEntry = (policy: PolicyItem, ruleIndex: number): RuleOrigin => ({
  type: policy.type,
  mesh: policy.mesh,
  name: policy.name,
  ruleIndex,
});
