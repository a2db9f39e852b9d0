import type { Command } from 'commander';
import { Option } from 'commander';
import { contextOf, writeOut } from '../context.ts';
import { renderTable } from '../table.ts';
import { output } from './get.ts';

interface RestoreAnswer {
  at: number;
  position: number;
  mesh: string | null;
  dryRun: boolean;
  total: number;
  changes: {
    operation: 'create' | 'update' | 'delete';
    type: string;
    mesh?: string;
    name: string;
    version: number;
    restoredVersion: number | null;
  }[];
  applied: number;
  sequences?: { from: number; to: number };
}

function printPlan(plan: RestoreAnswer): void {
  const rows = plan.changes.map((c) => [c.operation, c.type, c.mesh ?? '-', c.name, String(c.version), c.restoredVersion === null ? '-' : String(c.restoredVersion)]);
  process.stdout.write(renderTable(['OPERATION', 'TYPE', 'MESH', 'NAME', 'VERSION', 'RESTORED-FROM'], rows));
}

/**
 * `kumactl restore --at <point>`: plans (a dry run on the control plane), prints the plan, then
 * applies exactly that plan: the control plane refuses (409) if anything in it changed meanwhile.
 */
export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description('Bring resources back to how they were at a point in time, by appending the changes that undo later ones; prints the plan first, and --dry-run stops there')
    .requiredOption('--at <point>', 'the point to restore: a sequence number or an RFC 3339 time')
    .option('-m, --mesh <mesh>', 'only this mesh and the resources in it')
    .option('--dry-run', 'print what would change, and change nothing')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'yaml', 'json']).default('table'))
    .action(async (opts: { at: string; mesh?: string; dryRun?: boolean; output: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const scope = opts.mesh !== undefined ? { mesh: opts.mesh } : {};
      const plan = await ctx.client.request<RestoreAnswer>('POST', '/_restore', { at: opts.at, ...scope, dryRun: true });
      const table = opts.output === 'table';
      if (table) {
        if (plan.total === 0) {
          writeOut(`nothing to restore: the resources${opts.mesh !== undefined ? ` of mesh "${opts.mesh}"` : ''} are as they were at sequence ${plan.at}`);
          return;
        }
        printPlan(plan);
      }
      if (opts.dryRun || plan.total === 0) {
        if (!table) output(opts.output, plan);
        return;
      }
      // The resolved sequence, not the text given: a time is not resolved twice, and the plan was made against `position`.
      const done = await ctx.client.request<RestoreAnswer>('POST', '/_restore', { at: plan.at, ...scope, basedOn: plan.position });
      if (!table) return output(opts.output, done);
      const s = done.sequences;
      const seqs = !s ? '' : s.from === s.to ? ` (sequence ${s.from})` : ` (sequences ${s.from}-${s.to})`;
      writeOut(`\nrestored ${done.applied} resource${done.applied === 1 ? '' : 's'}${seqs}`);
    });
}
