/**
 * Every resource has one subject in the log: `<mesh>.<type>.<name>`, with `_` as the mesh of
 * global-scoped types. Tokens are escaped so that a name with '.', '*' or '>' stays one NATS token.
 */
export const GLOBAL_MESH_TOKEN = '_';

export function escapeToken(s: string): string {
  return s.replace(/[^A-Za-z0-9\-_]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

export function resourceSubject(e: { readonly type: string; readonly mesh?: string; readonly name: string }): string {
  return `${e.mesh === undefined ? GLOBAL_MESH_TOKEN : escapeToken(e.mesh)}.${escapeToken(e.type)}.${escapeToken(e.name)}`;
}
