import type { Command } from 'commander';
import { ApiClient } from '../client.ts';
import { loadKumactlConfig, saveKumactlConfig } from '../config-file.ts';
import { contextOf, writeOut } from '../context.ts';
import { keyValuePairs } from '../flags.ts';
import { renderTable } from '../table.ts';

export function registerConfig(program: Command): void {
  const cps = program.command('config').description('Manage kumactl config').command('control-planes').description('Manage known Control Planes');

  cps
    .command('add')
    .description('Add a Control Plane')
    .requiredOption('--name <name>', 'reference name for the Control Plane (required)')
    .requiredOption('--address <url>', 'URL of the Control Plane API Server (required). Example: http://localhost:5681 or https://localhost:5682)')
    .option('--overwrite', 'overwrite existing Control Plane with the same reference name')
    .option('--skip-check', 'skip the connectivity check against the API Server')
    .option('--ca-cert-file <path>', 'path to the certificate authority which will be used to verify the Control Plane certificate')
    .option('--skip-verify', 'skip CA verification')
    .option('--auth-type <type>', 'authentication type of the Control Plane: tokens')
    .option('--auth-conf <key=value...>', 'authentication config, e.g. token=<user token>')
    .action(async (opts: { name: string; address: string; overwrite?: boolean; skipCheck?: boolean; caCertFile?: string; skipVerify?: boolean; authType?: string; authConf?: string[] }, cmd: Command) => {
      const { configPath } = contextOf(cmd);
      let url: URL;
      try {
        url = new URL(opts.address);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported scheme "${url.protocol}"`);
      } catch (err) {
        throw new Error(`API Server URL is invalid: ${(err as Error).message}`);
      }
      if (opts.authType !== undefined && opts.authType !== 'tokens') throw new Error(`--auth-type: only "tokens" is supported, got "${opts.authType}"`);
      const authConf: Record<string, string> = Object.fromEntries(keyValuePairs('--auth-conf', opts.authConf ?? []));
      if (opts.authType === 'tokens' && !authConf['token']) throw new Error('--auth-type=tokens needs --auth-conf token=<user token>');
      const config = loadKumactlConfig(configPath);
      if (config.controlPlanes.some((cp) => cp.name === opts.name) && !opts.overwrite) {
        throw new Error(`Control Plane with name "${opts.name}" already exists. Use --overwrite to replace an existing one.`);
      }
      if (!opts.skipCheck) {
        const client = new ApiClient(opts.address.replace(/\/+$/, ''), authConf['token']);
        const index = await client.request<{ tagline?: string }>('GET', '/');
        if (index.tagline !== 'Kuma') {
          throw new Error(`this CLI is for Kuma but the control plane you're connected to is ${index.tagline ?? 'unknown'}. Please use the CLI for your control plane`);
        }
        // The token must work too (the index answers anyone).
        if (authConf['token']) await client.request('GET', '/meshes');
      }
      const apiServer = {
        url: opts.address,
        ...(opts.caCertFile ? { caCertFile: opts.caCertFile } : {}),
        ...(opts.skipVerify ? { skipVerify: true } : {}),
        ...(opts.authType ? { authType: opts.authType, authConf } : {}),
      };
      config.controlPlanes = [...config.controlPlanes.filter((cp) => cp.name !== opts.name), { name: opts.name, coordinates: { apiServer } }];
      config.contexts = [...config.contexts.filter((c) => c.name !== opts.name), { name: opts.name, controlPlane: opts.name }];
      config.currentContext = opts.name;
      saveKumactlConfig(configPath, config);
      writeOut(`added Control Plane "${opts.name}"\nswitched active Control Plane to "${opts.name}"`);
    });

  cps
    .command('list')
    .description('List Control Planes')
    .action((_opts: unknown, cmd: Command) => {
      const config = loadKumactlConfig(contextOf(cmd).configPath);
      const current = config.contexts.find((c) => c.name === config.currentContext)?.controlPlane;
      const rows = config.controlPlanes.map((cp) => [cp.name === current ? '*' : '', cp.name, cp.coordinates.apiServer.url]);
      process.stdout.write(renderTable(['ACTIVE', 'NAME', 'ADDRESS'], rows));
    });

  cps
    .command('switch')
    .description('Switch active Control Plane')
    .requiredOption('--name <name>', 'reference name of the Control Plane')
    .action((opts: { name: string }, cmd: Command) => {
      const { configPath } = contextOf(cmd);
      const config = loadKumactlConfig(configPath);
      const ctx = config.contexts.find((c) => c.controlPlane === opts.name || c.name === opts.name);
      if (!ctx) throw new Error(`there is no Control Plane with name "${opts.name}"`);
      config.currentContext = ctx.name;
      saveKumactlConfig(configPath, config);
      writeOut(`switched active Control Plane to "${opts.name}"`);
    });

  cps
    .command('remove')
    .description('Remove a Control Plane')
    .requiredOption('--name <name>', 'reference name of the Control Plane')
    .action((opts: { name: string }, cmd: Command) => {
      const { configPath } = contextOf(cmd);
      const config = loadKumactlConfig(configPath);
      if (!config.controlPlanes.some((cp) => cp.name === opts.name)) throw new Error(`there is no Control Plane with name "${opts.name}"`);
      config.controlPlanes = config.controlPlanes.filter((cp) => cp.name !== opts.name);
      config.contexts = config.contexts.filter((c) => c.controlPlane !== opts.name);
      if (!config.contexts.some((c) => c.name === config.currentContext)) config.currentContext = config.contexts[0]?.name ?? '';
      saveKumactlConfig(configPath, config);
      writeOut(`removed Control Plane "${opts.name}"`);
    });
}
