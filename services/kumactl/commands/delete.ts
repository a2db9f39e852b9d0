import { Option, type Command } from 'commander';
import { ApiResponseError } from '../client.ts';
import { contextOf, writeOut } from '../context.ts';
import { resourcePath } from '../paths.ts';
import { output, resolveType } from './get.ts';
import { renderPreview, type PreviewAnswer } from './preview.ts';

export function registerDelete(program: Command): void {
  program
    .command('delete')
    .description('Delete Kuma resources')
    .argument('<type>', 'resource type, e.g. mesh, dataplane')
    .argument('<name>', 'name of the resource')
    .option('-m, --mesh <mesh>', 'mesh of mesh-scoped resources', 'default')
    .option('--dry-run', 'show which data plane proxies would change and how, without deleting anything (mesh-scoped resources)')
    .addOption(new Option('-o, --output <format>', 'output format of --dry-run').choices(['text', 'yaml', 'json']).default('text'))
    .action(async (typeArg: string, name: string, opts: { mesh: string; dryRun?: boolean; output: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const d = resolveType(ctx.registry, typeArg);
      if (opts.dryRun && d.scope !== 'Mesh') throw new Error(`--dry-run previews mesh-scoped resources; ${d.name} is global`);
      try {
        if (opts.dryRun) {
          const preview = await ctx.client.request<PreviewAnswer>('DELETE', `${resourcePath(d, opts.mesh, name)}/_preview`);
          if (opts.output !== 'text') return output(opts.output, preview);
          return writeOut(renderPreview(preview));
        }
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
