import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig, ROLES, type Role } from '../../libs/platform/config.ts';
import { createLogger } from '../../libs/platform/logger.ts';
import { KUMA_VERSION } from '../api-server/server.ts';
import { startControlPlane } from './control-plane.ts';

function parseRoles(value: string): Role[] {
  const roles = value.split(',').map((r) => r.trim()).filter(Boolean);
  for (const r of roles) {
    if (!(ROLES as readonly string[]).includes(r)) throw new InvalidArgumentError(`unknown role "${r}"; roles are ${ROLES.join(', ')}`);
  }
  if (roles.length === 0) throw new InvalidArgumentError('at least one role is required');
  return roles as Role[];
}

const program = new Command('kuma-cp').description('Universal control plane for Envoy-based service mesh (Kuma 2.14 compatible)');

program
  .command('run')
  .description('Launch the control plane')
  .option('-c, --config-file <path>', 'configuration file (YAML)')
  .addOption(new Option('--roles <roles>', 'comma-separated roles of this process').default(['api', 'projector', 'gateway'], 'api,projector,gateway').argParser(parseRoles))
  .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error']))
  .action(async (opts: { configFile?: string; roles: Role[]; logLevel?: string }) => {
    let loaded;
    try {
      loaded = loadConfig({ ...(opts.configFile ? { file: opts.configFile } : {}) });
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`Error: invalid configuration: ${err.message}\n`);
        process.exit(1);
      }
      throw err;
    }
    const logger = createLogger({ level: opts.logLevel ?? loaded.config.logLevel });
    for (const name of loaded.unknownEnv) logger.warn({ component: 'config', variable: name }, 'unknown KUMA_ environment variable ignored');
    try {
      const cp = await startControlPlane(loaded.config, opts.roles, logger);
      cp.lifecycle.handleSignals((code) => {
        logger.flush();
        process.exit(code);
      });
    } catch (err) {
      if (err instanceof ConfigError) {
        logger.fatal({ component: 'kuma-cp', err: err.message }, 'invalid configuration');
        logger.flush();
        process.stderr.write(`Error: invalid configuration: ${err.message}\n`);
        process.exit(1);
      }
      logger.fatal({ component: 'kuma-cp', err }, 'could not start the control plane');
      logger.flush();
      process.exitCode = 1;
      setTimeout(() => process.exit(1), 100).unref();
    }
  });

program
  .command('version')
  .description('Print version')
  .action(() => {
    process.stdout.write(`Kuma: ${KUMA_VERSION}\n`);
  });

await program.parseAsync(process.argv);
