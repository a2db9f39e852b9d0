import type { Command } from 'commander';
import { ApiClient } from './client.ts';
import { currentCoordinates, loadKumactlConfig } from './config-file.ts';
import { fullRegistry } from '../../libs/policies/registry.ts';
import type { TypeRegistry } from '../../libs/resources/registry.ts';

export interface CliContext {
  readonly configPath: string;
  readonly client: ApiClient;
  readonly registry: TypeRegistry;
}

/** Resolves the control plane from the config file named by the root `--config-file` option. */
export function contextOf(cmd: Command): CliContext {
  let root = cmd;
  while (root.parent) root = root.parent;
  const configPath = root.opts<{ configFile: string }>().configFile;
  return {
    configPath,
    registry: fullRegistry(),
    get client() {
      const { url, token } = currentCoordinates(loadKumactlConfig(configPath));
      return new ApiClient(url, token);
    },
  };
}

export function writeOut(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}
