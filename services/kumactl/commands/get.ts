import type { Command } from 'commander';
import { Option } from 'commander';
import { stringify } from 'yaml';
import type { ResourceTypeDescriptor } from '../../../libs/resources/descriptor.ts';
import type { Resource } from '../../../libs/resources/resource.ts';
import type { TypeRegistry } from '../../../libs/resources/registry.ts';
import type { JsonObject } from '../../../libs/resources/validation.ts';
import { contextOf, writeOut } from '../context.ts';
import { resourcePath } from '../paths.ts';
import { age, renderTable } from '../table.ts';

interface ListResponse {
  total: number;
  items: JsonObject[];
  next: string | null;
}

export function resolveType(registry: TypeRegistry, arg: string): ResourceTypeDescriptor {
  const d = registry.findByKumactlArg(arg);
  if (!d) {
    const known = registry.all().map((t) => t.kumactlListArg).sort().join(', ');
    throw new Error(`unknown TYPE: ${arg}. Allowed values: ${known}`);
  }
  return d;
}

/** A wire object back to the Resource shape table columns read. */
function asResource(o: JsonObject, d: ResourceTypeDescriptor): Resource {
  const { type, mesh, name, labels, creationTime, modificationTime, spec, ...rest } = o;
  return {
    meta: {
      type: String(type),
      ...(mesh !== undefined ? { mesh: String(mesh) } : {}),
      name: String(name),
      labels: (labels ?? {}) as Record<string, string>,
      creationTime: String(creationTime),
      modificationTime: String(modificationTime),
      version: 0,
    },
    spec: (d.specLayout === 'nested' ? (spec ?? {}) : rest) as JsonObject,
  };
}

export function printResources(d: ResourceTypeDescriptor, items: JsonObject[], next: string | null): void {
  const now = new Date();
  const headers = [...(d.scope === 'Mesh' ? ['MESH'] : []), 'NAME', ...d.columns.map((c) => c.header), 'AGE'];
  const rows = items.map((o) => {
    const r = asResource(o, d);
    return [...(d.scope === 'Mesh' ? [r.meta.mesh ?? ''] : []), r.meta.name, ...d.columns.map((c) => c.value(r, now)), age(r.meta.modificationTime, now)];
  });
  let out = renderTable(headers, rows);
  if (next) {
    const offset = new URL(next).searchParams.get('offset');
    out += `\nRerun command with --offset=${offset} argument to retrieve more resources\n`;
  }
  process.stdout.write(out);
}

export function output(format: string, value: unknown): void {
  writeOut(format === 'json' ? JSON.stringify(value, null, 2) : stringify(value));
}

export function registerGet(program: Command): void {
  program
    .command('get')
    .description('Show Kuma resources')
    .argument('<type>', 'resource type, e.g. meshes, dataplanes, mesh, dataplane')
    .argument('[name]', 'name of one resource')
    .option('-m, --mesh <mesh>', 'mesh of mesh-scoped resources', 'default')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'yaml', 'json']).default('table'))
    .option('--size <n>', 'maximum number of elements to return', '100')
    .option('--offset <offset>', 'the offset that indicates starting element of the resources list')
    .option('--at <point>', 'show the resources as they were at this point: a sequence number or an RFC 3339 time')
    .action(async (typeArg: string, name: string | undefined, opts: { mesh: string; output: string; size: string; offset?: string; at?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const d = resolveType(ctx.registry, typeArg);
      const at: Record<string, string> = opts.at !== undefined ? { at: opts.at } : {};
      if (name !== undefined) {
        const atQuery = new URLSearchParams(at).toString();
        const item = await ctx.client.request<JsonObject>('GET', resourcePath(d, opts.mesh, name) + (atQuery ? `?${atQuery}` : ''));
        if (opts.output === 'table') printResources(d, [item], null);
        else output(opts.output, item);
        return;
      }
      const query = new URLSearchParams({ size: opts.size, ...(opts.offset ? { offset: opts.offset } : {}), ...at });
      const list = await ctx.client.request<ListResponse>('GET', `${resourcePath(d, opts.mesh)}?${query.toString()}`);
      if (opts.output === 'table') printResources(d, list.items, list.next);
      else output(opts.output, list);
    });
}
