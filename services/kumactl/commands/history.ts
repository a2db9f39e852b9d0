import type { Command } from 'commander';
import { Option } from 'commander';
import { contextOf } from '../context.ts';
import { resourcePath } from '../paths.ts';
import { renderTable } from '../table.ts';
import { output, resolveType } from './get.ts';

interface Entry {
  version: number;
  time: string;
  operation: string;
  actor: { subject: string; source: string };
  diff: { op: string; path: string }[];
}

/** `kumactl history <type> <name>`: every version of a resource, who made it, and what changed. */
export function registerHistory(program: Command): void {
  program
    .command('history')
    .description('Show every version of a resource: who changed it, when, and what changed')
    .argument('<type>', 'resource type, e.g. mesh, dataplane')
    .argument('<name>', 'name of the resource')
    .option('-m, --mesh <mesh>', 'mesh of mesh-scoped resources', 'default')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'yaml', 'json']).default('table'))
    .action(async (typeArg: string, name: string, opts: { mesh: string; output: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const d = resolveType(ctx.registry, typeArg);
      const res = await ctx.client.request<{ items: Entry[] }>('GET', `${resourcePath(d, opts.mesh, name)}/_history`);
      if (opts.output !== 'table') return output(opts.output, res);
      const rows = res.items.map((e) => [
        String(e.version),
        e.time,
        e.actor.subject,
        e.actor.source,
        e.operation,
        e.diff.length === 0 ? '-' : e.diff.map((p) => `${p.op} ${p.path}`).join(', '),
      ]);
      process.stdout.write(renderTable(['VERSION', 'TIME', 'ACTOR', 'SOURCE', 'OPERATION', 'CHANGES'], rows));
    });
}
