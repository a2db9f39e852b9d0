import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http } from './http.ts';
import { stringify as stringifyYaml } from 'yaml';
import { REPO_ROOT, type KumaCpProcess } from './kuma-cp.ts';
import { serviceArgs } from './services.ts';

export type KumaDpProcess = ChildProcess & { output: () => string; exited: Promise<number | null> };

/**
 * `kuma-dp run --cp-address https://localhost:<dp port> ...args`, as a user would run it, with HOME (and TMPDIR) at `home`.
 * In a process group of its own: SIGKILL goes to the group, so the application kuma-dp runs
 * (`-- <command>`), which a killed kuma-dp cannot stop, dies with it instead of outliving the test.
 */
export function spawnKumaDp(cp: KumaCpProcess, home: string, args: string[], env: Record<string, string> = {}): KumaDpProcess {
  const p = spawn(process.execPath, [...serviceArgs('kuma-dp'), 'run', '--cp-address', `https://localhost:${cp.dpPort}`, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const kill = p.kill.bind(p);
  p.kill = (signal?: NodeJS.Signals | number) => {
    if (signal !== 'SIGKILL' || p.pid === undefined) return kill(signal);
    try {
      process.kill(-p.pid, 'SIGKILL');
      return true;
    } catch {
      return kill(signal);
    }
  };
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
  return Object.assign(p, { output: () => out, exited });
}

/** Waits until `cond` holds, polling every `everyMs`; the error names `what` (a string, or made when it fails). */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string) = 'condition', everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${typeof what === 'string' ? what : what()} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A Dataplane of `default` with one gRPC inbound on 127.0.0.1 (what the proxyless tests run). */
export const grpcDataplane = (name: string, port: number, service: string, extra: object = {}) => ({
  type: 'Dataplane',
  mesh: 'default',
  name,
  networking: { address: '127.0.0.1', inbound: [{ port, tags: { 'kuma.io/service': service, 'kuma.io/protocol': 'grpc' } }], ...extra },
});

/** A dataplane token for `name` in `default`, written to `<dir>/<name>.token` (for --dataplane-token-file). */
export async function dataplaneTokenFile(cp: KumaCpProcess, dir: string, name: string): Promise<string> {
  const token = (await http(cp.url, 'POST', '/tokens/dataplane', { name, mesh: 'default' })).body as string;
  const file = join(dir, `${name}.token`);
  writeFileSync(file, token);
  return file;
}

/** A proxyless greeter server (`greeter-1`) and caller (`caller-1`, with an outbound to greeter), each under `kuma-dp run --proxyless`. */
export interface GreeterPair {
  readonly backend: KumaDpProcess;
  readonly caller: KumaDpProcess;
  /** The gRPC bootstrap kuma-dp wrote for the caller (an xDS client reads it). */
  readonly clientBootstrap: string;
  readonly backendPort: number;
}

/**
 * Starts the pair in `dir` and waits until the caller's bootstrap exists and the backend serves.
 * `spawn` runs kuma-dp (so the test can keep and kill the processes).
 */
export async function startGreeterPair(cp: KumaCpProcess, dir: string, spawnDp: (args: string[]) => KumaDpProcess, freePort: () => Promise<number>): Promise<GreeterPair> {
  const backendPort = await freePort();
  writeFileSync(join(dir, 'backend.yaml'), stringifyYaml(grpcDataplane('greeter-1', backendPort, 'greeter')));
  // The caller declares its outbound: its own configuration (not only what it asks for by name)
  // must then speak gRPC's mTLS shape, which kuma-dp's kuma.io/proxyless label asks for.
  writeFileSync(join(dir, 'client.yaml'), stringifyYaml(grpcDataplane('caller-1', await freePort(), 'caller', { outbound: [{ port: 10001, tags: { 'kuma.io/service': 'greeter' } }] })));
  const backend = spawnDp([
    '--proxyless', '--dataplane-file', join(dir, 'backend.yaml'), '--dataplane-token-file', await dataplaneTokenFile(cp, dir, 'greeter-1'), '--ca-cert-file', cp.caCertFile,
    '--', process.execPath, join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(REPO_ROOT, 'test/e2e/fixtures/greeter-app.ts'), String(backendPort), 'greeter-1',
  ]);
  const clientBootstrap = join(dir, 'client-bootstrap.json');
  const caller = spawnDp(['--proxyless', '--dataplane-file', join(dir, 'client.yaml'), '--dataplane-token-file', await dataplaneTokenFile(cp, dir, 'caller-1'), '--ca-cert-file', cp.caCertFile, '--grpc-bootstrap-file', clientBootstrap]);
  await until(() => existsSync(clientBootstrap), 20_000, () => `client bootstrap (${caller.output()})`);
  await until(() => backend.output().includes('serving state: SERVING'), 40_000, () => `the backend serving (${backend.output()}\n--- kuma-cp ---\n${cp.output.slice(-3000)})`);
  return { backend, caller, clientBootstrap, backendPort };
}
