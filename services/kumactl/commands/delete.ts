import type { Command } from 'commander';
import { ApiResponseError } from '../client.ts';
import { contextOf, writeOut } from '../context.ts';
import { resourcePath } from '../paths.ts';
import { resolveType } from './get.ts';

export function registerDelete(program: Command): void {
  program
    .command('delete')
    .description('Delete Kuma resources')
    .argument('<type>', 'resource type, e.g. mesh, dataplane')
    .argument('<name>', 'name of the resource')
    .option('-m, --mesh <mesh>', 'mesh of mesh-scoped resources', 'default')
    .action(async (typeArg: string, name: string, opts: { mesh: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const d = resolveType(ctx.registry, typeArg);
      try {
        await ctx.client.request('DELETE', resourcePath(d, opts.mesh, name));
      } catch (err) {
        if (err instanceof ApiResponseError && err.status === 404 && err.invalidParameters.length === 0) {
          throw new Error(`there is no ${d.name} with name "${name}"`);
        }
        throw err;
      }
      writeOut(`deleted ${d.name} "${name}"`);
    });
}
