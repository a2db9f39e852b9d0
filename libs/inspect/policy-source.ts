import { policyItemOf } from '../mesh-view/mesh-view.ts';
import type { PolicyItem } from '../policies/core/matchable.ts';
import type { SelectionContext } from '../policies/core/select.ts';
import type { PolicySource } from '../policies/engine/proxy-policies.ts';
import type { CurrentState } from '../projection/current-state.ts';

/**
 * The policies of one mesh of a state, as the engine reads them: no Dataplane indexes, so
 * computing one proxy's rules costs the mesh's policies, not its proxies. Pure.
 */
export function policySourceOf(state: CurrentState, mesh: string, policyTypes: ReadonlySet<string>): PolicySource {
  const byType = new Map<string, PolicyItem[]>();
  for (const type of policyTypes) {
    const items = state.list(type, mesh).map(policyItemOf);
    if (items.length > 0) byType.set(type, items);
  }
  const routes = new Map((byType.get('MeshHTTPRoute') ?? []).map((r) => [r.name, r]));
  const selectionContext: SelectionContext = { route: (_mesh, name) => routes.get(name) };
  return { policies: (type) => byType.get(type) ?? [], selectionContext };
}
