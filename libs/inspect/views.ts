import { IDENTITY_TYPES, MeshViews } from '../mesh-view/mesh-view.ts';
import type { CurrentState } from '../projection/current-state.ts';

/**
 * The mesh view of one mesh of a (live, past or hypothetical) state: its Mesh, Dataplanes and
 * the policies of `policyTypes`, loaded as the projector loads them. Pure; the state is only read.
 */
export function meshViewsOf(state: CurrentState, mesh: string, policyTypes: ReadonlySet<string>): MeshViews {
  const views = new MeshViews(policyTypes);
  const m = state.get({ type: 'Mesh', name: mesh });
  if (m) views.apply('Mesh', undefined, mesh, m);
  for (const dp of state.list('Dataplane', mesh)) views.apply('Dataplane', mesh, dp.meta.name, dp);
  for (const type of IDENTITY_TYPES) for (const r of state.list(type, mesh)) views.apply(type, mesh, r.meta.name, r);
  for (const type of policyTypes) for (const p of state.list(type, mesh)) views.apply(type, mesh, p.meta.name, p);
  return views;
}
