import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig, ROLES, type Role } from '../../libs/platform/config.ts';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../../libs/platform/log-options.ts';
import { createLogger } from '../../libs/platform/logger.ts';
import { KUMA_VERSION } from '../../libs/platform/version.ts';
import { startControlPlane } from './control-plane.ts';
import { importKuma } from './import-kuma.ts';
import { migrateUpCommand } from './migrate.ts';
import { rotateKey } from './rotate-key.ts';

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
  .addOption(new Option('--log-level <level>', 'log level (default: info, or KUMA_LOG_LEVEL)').choices(LOG_LEVELS))
  .addOption(new Option('--log-format <format>', 'log format: text on a terminal and JSON lines otherwise unless set (default: auto, or KUMA_LOG_FORMAT)').choices(LOG_FORMATS))
  .action(async (opts: { configFile?: string; roles: Role[]; logLevel?: string; logFormat?: LogFormat }) => {
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
    const logger = createLogger({ level: opts.logLevel ?? loaded.config.logLevel, format: opts.logFormat ?? loaded.config.logFormat });
    for (const name of loaded.unknownEnv) logger.warn({ component: 'config', variable: name }, 'unknown KUMA_ environment variable ignored');
    try {
      const cp = await startControlPlane(loaded.config, opts.roles, logger, () => {
        logger.flush();
        process.exit(1);
      });
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

const encryption = program.command('encryption').description('Manage the store encryption of secrets (the key-encryption keyring)');
encryption
  .command('rotate-key')
  .description(
    'Make a new key-encryption key primary and re-encrypt every current secret under it (kuma-cp must be stopped on the embedded store; see README, "Secrets in the log")',
  )
  .requiredOption('--new-key-file <path>', 'the new key (one base64 line); generated there (0600) when the file does not exist')
  .option('-c, --config-file <path>', 'configuration file (YAML)')
  .action(async (opts: { newKeyFile: string; configFile?: string }) => {
    const logger = createLogger({ level: 'warn' });
    try {
      const { config } = loadConfig({ ...(opts.configFile ? { file: opts.configFile } : {}) });
      const r = await rotateKey(config, opts.newKeyFile, logger);
      process.stdout.write(
        `keyring ${r.keyFile}: primary ${r.primary}; keys ${r.keys.join(', ')}\n` +
          `re-encrypted ${r.reencrypted.length} secret(s)${r.alreadyCurrent ? ` (${r.alreadyCurrent} already under the new key)` : ''}${r.reencrypted.map((s) => `\n  ${s}`).join('')}\n` +
          (r.checkpoint !== null ? `checkpoint saved at ${r.checkpoint}\n` : '') +
          'The older keys stay in the keyring: events and checkpoints from before this rotation are sealed under them.\n',
      );
    } catch (err) {
      process.stderr.write(`Error: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  });

const migrate = program.command('migrate').description('Manage the PostgreSQL store (KUMA_STORE_TYPE=postgres)');
migrate
  .command('up')
  .description('Apply the schema migrations this kuma-cp needs (kuma-cp run refuses a database that is behind)')
  .option('-c, --config-file <path>', 'configuration file (YAML)')
  .action(async (opts: { configFile?: string }) => {
    try {
      const { config } = loadConfig({ ...(opts.configFile ? { file: opts.configFile } : {}) });
      process.stdout.write(await migrateUpCommand(config));
    } catch (err) {
      process.stderr.write(`Error: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  });

migrate
  .command('import-kuma')
  .description("Append every resource of a Kuma 2.x universal database (its resources table) to this control plane's log, as actor source import")
  .option('--from <url>', 'the Kuma database, as postgres://user:password@host:port/db (or KUMA_MIGRATE_IMPORT_FROM, which keeps the password out of the process list)')
  .option('--allow-non-empty', 'append even when the log already holds events')
  .option('-c, --config-file <path>', 'configuration file (YAML)')
  .action(async (opts: { from?: string; allowNonEmpty?: boolean; configFile?: string }) => {
    const logger = createLogger({ level: 'warn' });
    try {
      const from = opts.from ?? process.env['KUMA_MIGRATE_IMPORT_FROM'];
      if (!from) throw new Error('--from (or KUMA_MIGRATE_IMPORT_FROM) is required: the Kuma database to import, as postgres://user:password@host:port/db');
      const { config } = loadConfig({ ...(opts.configFile ? { file: opts.configFile } : {}) });
      const r = await importKuma(config, from, { allowNonEmpty: opts.allowNonEmpty === true }, logger);
      const total = Object.values(r.imported).reduce((a, b) => a + b, 0);
      process.stdout.write(
        `imported ${total} resource(s); the log is at ${r.head}\n` +
          Object.entries(r.imported).map(([t, n]) => `  ${t}: ${n}\n`).join('') +
          Object.entries(r.unchanged).map(([t, n]) => `  unchanged ${t}: ${n} (already in the log as it is)\n`).join('') +
          Object.entries(r.kept).map(([t, n]) => `  kept ${t}: ${n} (changed in this control plane since it was imported; Kuma's copy not applied)\n`).join('') +
          Object.entries(r.skipped).map(([t, s]) => `  skipped ${t}: ${s.count} (${s.why})\n`).join(''),
      );
    } catch (err) {
      process.stderr.write(`Error: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  });

program
  .command('version')
  .description('Print version')
  .action(() => {
    process.stdout.write(`Kuma: ${KUMA_VERSION}\n`);
  });

await program.parseAsync(process.argv);
