import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';

/** `~/.kumactl/config`, in Kuma's format. */
export interface KumactlConfig {
  contexts: { name: string; controlPlane: string; defaults?: { mesh?: string } }[];
  controlPlanes: {
    name: string;
    coordinates: { apiServer: { url: string; caCertFile?: string; skipVerify?: boolean; authType?: string; authConf?: Record<string, string> } };
  }[];
  currentContext: string;
}

export const defaultConfigPath = (): string => join(homedir(), '.kumactl', 'config');

/** What kumactl uses when no config file exists: a `local` control plane on localhost. */
function initialConfig(): KumactlConfig {
  return {
    contexts: [{ name: 'local', controlPlane: 'local' }],
    controlPlanes: [{ name: 'local', coordinates: { apiServer: { url: 'http://localhost:5681' } } }],
    currentContext: 'local',
  };
}

export function loadKumactlConfig(path: string): KumactlConfig {
  if (!existsSync(path)) return initialConfig();
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`could not read kumactl config ${path}: ${(err as Error).message}`);
  }
  const c = (doc ?? {}) as Partial<KumactlConfig>;
  return { contexts: c.contexts ?? [], controlPlanes: c.controlPlanes ?? [], currentContext: c.currentContext ?? '' };
}

export function saveKumactlConfig(path: string, config: KumactlConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, stringify(config), { mode: 0o600 });
}

/** The API server URL of the current context. */
/** The current control plane's URL and, with `--auth-type=tokens`, the user token to send. */
export function currentCoordinates(config: KumactlConfig): { url: string; token?: string } {
  const url = currentApiServer(config);
  const ctx = config.contexts.find((c) => c.name === config.currentContext)!;
  const api = config.controlPlanes.find((p) => p.name === ctx.controlPlane)!.coordinates.apiServer;
  const token = api.authType === 'tokens' ? api.authConf?.['token'] : undefined;
  return { url, ...(token ? { token } : {}) };
}

export function currentApiServer(config: KumactlConfig): string {
  const ctx = config.contexts.find((c) => c.name === config.currentContext);
  if (!ctx) throw new Error(`current context "${config.currentContext}" does not exist; run "kumactl config control-planes add"`);
  const cp = config.controlPlanes.find((p) => p.name === ctx.controlPlane);
  if (!cp) throw new Error(`control plane "${ctx.controlPlane}" of context "${ctx.name}" does not exist`);
  return cp.coordinates.apiServer.url.replace(/\/+$/, '');
}
