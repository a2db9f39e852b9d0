/** The answer of `POST /meshes/{mesh}/{plural}/{name}/_preview` (services/api-server/inspect-routes.ts). */
export interface PreviewAnswer {
  resource: { type: string; mesh: string; name: string };
  operation: 'create' | 'update' | 'delete';
  /** A deletion's companions that go with it (a MeshIdentity's MeshTrust). */
  alsoDeletes?: { type: string; mesh: string; name: string }[];
  basedOn: number;
  total: number;
  changed: number;
  proxies: {
    name: string;
    changed: boolean;
    error?: string;
    changes: { typeUrl: string; name: string; op: 'added' | 'removed' | 'changed'; patch?: { op: string; path: string; value?: unknown; from?: string }[] }[];
  }[];
}

const SIGN = { added: '+', removed: '-', changed: '~' } as const;
const short = (typeUrl: string) => typeUrl.slice(typeUrl.lastIndexOf('.') + 1);

/** The impact of one resource as `kumactl apply --dry-run` prints it: which proxies change, and how. */
export function renderPreview(p: PreviewAnswer): string {
  const r = p.resource;
  const lines = [
    `${r.type} "${r.name}" in mesh "${r.mesh}" would be ${{ create: 'created', update: 'updated', delete: 'deleted' }[p.operation]} (at log position ${p.basedOn}): ${p.changed} of ${p.total} selected data plane proxies would change`,
    ...(p.alsoDeletes ?? []).map((d) => `  with it: ${d.type} "${d.name}"`),
  ];
  for (const proxy of p.proxies) {
    if (proxy.error) {
      lines.push(`  ${proxy.name}: cannot be translated: ${proxy.error}`);
      continue;
    }
    lines.push(`  ${proxy.name}: ${proxy.changed ? `${proxy.changes.length} xDS resource(s) would change` : 'unchanged'}`);
    for (const c of proxy.changes) {
      lines.push(`    ${SIGN[c.op]} ${short(c.typeUrl)} ${c.name}`);
      for (const op of c.patch ?? []) {
        const value = op.value === undefined ? '' : ` ${JSON.stringify(op.value)}`;
        lines.push(`        ${op.op} ${op.path}${op.from !== undefined ? ` from ${op.from}` : ''}${value}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}
