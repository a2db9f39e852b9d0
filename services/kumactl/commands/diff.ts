import type { Command } from 'commander';
import { Option } from 'commander';
import { contextOf } from '../context.ts';
import { renderTable } from '../table.ts';
import { output } from './get.ts';

interface DiffResponse {
  from: number;
  to: number;
  total: number;
  items: {
    change: 'created' | 'updated' | 'deleted';
    type: string;
    mesh?: string;
    name: string;
    fromVersion: number | null;
    toVersion: number | null;
    diff: unknown[];
  }[];
}

/** `kumactl diff --from <at> [--to <at>]`: the resources that differ between two points of the log. */
export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('Show which resources were created, updated or deleted between two points in time')
    .requiredOption('--from <point>', 'the earlier point: a sequence number or an RFC 3339 time')
    .option('--to <point>', 'the later point: a sequence number or an RFC 3339 time (default: now)')
    .option('-m, --mesh <mesh>', 'only this mesh and the resources in it')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'yaml', 'json']).default('table'))
    .action(async (opts: { from: string; to?: string; mesh?: string; output: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const query = new URLSearchParams({ from: opts.from, ...(opts.to !== undefined ? { to: opts.to } : {}), ...(opts.mesh !== undefined ? { mesh: opts.mesh } : {}) });
      const res = await ctx.client.request<DiffResponse>('GET', `/_diff?${query.toString()}`);
      if (opts.output !== 'table') return output(opts.output, res);
      const version = (v: number | null) => (v === null ? '-' : String(v));
      const rows = res.items.map((i) => [i.change, i.type, i.mesh ?? '-', i.name, version(i.fromVersion), version(i.toVersion)]);
      process.stdout.write(renderTable(['CHANGE', 'TYPE', 'MESH', 'NAME', 'FROM', 'TO'], rows));
    });
}
