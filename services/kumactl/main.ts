import { Command, Option } from 'commander';
import { KUMA_VERSION } from '../../libs/platform/version.ts';
import { ApiResponseError } from './client.ts';
import { registerApply } from './commands/apply.ts';
import { registerAudit } from './commands/audit.ts';
import { registerConfig } from './commands/config.ts';
import { registerDelete } from './commands/delete.ts';
import { registerDiff } from './commands/diff.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerGet } from './commands/get.ts';
import { registerHistory } from './commands/history.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerInstall } from './commands/install.ts';
import { registerReplay } from './commands/replay.ts';
import { registerRestore } from './commands/restore.ts';
import { defaultConfigPath } from './config-file.ts';
import { contextOf } from './context.ts';

const program = new Command('kumactl')
  .description('Management tool for Kuma')
  .addOption(new Option('--config-file <path>', 'path to the configuration file to use').default(defaultConfigPath(), '~/.kumactl/config'))
  .showHelpAfterError();

registerApply(program);
registerGet(program);
registerDelete(program);
registerInspect(program);
registerHistory(program);
registerAudit(program);
registerDiff(program);
registerRestore(program);
registerReplay(program);
registerConfig(program);
registerGenerate(program);
registerInstall(program);

program
  .command('version')
  .description('Print version')
  .option('-a, --detailed', 'print the server version too')
  .action(async (opts: { detailed?: boolean }) => {
    process.stdout.write(`Client: Kuma ${KUMA_VERSION}\n`);
    if (opts.detailed) {
      const index = await contextOf(program).client.request<{ product?: string; version?: string }>('GET', '/');
      process.stdout.write(`Server: ${index.product ?? 'Kuma'} ${index.version ?? 'unknown'}\n`);
    }
  });

// Whoever reads the output stopped (`kumactl audit | head`): end quietly, as other command-line tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const message = err instanceof ApiResponseError ? err.describe() : (err as Error).message;
  process.stderr.write(`Error: ${message}\n`);
  process.exitCode = 1;
}
