import { validateMeshRef, validateName } from '../../libs/resources/names.ts';
import { Violations } from '../../libs/resources/validation.ts';

/** A proxy's identity: its xDS node id is `<mesh>.<dataplane name>` (Kuma's convention). */
export interface ProxyId {
  readonly mesh: string;
  readonly name: string;
}

export class InvalidNodeIdError extends Error {
  override readonly name = 'InvalidNodeIdError';
}

export const proxyKey = (p: ProxyId): string => `${p.mesh}.${p.name}`;

/** Parses `<mesh>.<name>`: the mesh is up to the first dot, as Kuma parses it. */
export function parseNodeId(id: string | undefined): ProxyId {
  if (!id) throw new InvalidNodeIdError('node id is missing: the first request of a stream must carry node.id "<mesh>.<dataplane name>"');
  const dot = id.indexOf('.');
  if (dot <= 0 || dot === id.length - 1) throw new InvalidNodeIdError(`node id "${id}" is not of the form "<mesh>.<dataplane name>"`);
  const mesh = id.slice(0, dot);
  const name = id.slice(dot + 1);
  const v = Violations.root();
  validateMeshRef(mesh, v.field('mesh'));
  validateName(name, v.field('name'));
  if (!v.empty) throw new InvalidNodeIdError(`node id "${id}" is invalid: ${v.items.map((i) => `${i.field}: ${i.reason}`).join('; ')}`);
  return { mesh, name };
}
