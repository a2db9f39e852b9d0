import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http } from './http.ts';
import type { KumaCpProcess } from './kuma-cp.ts';
import { serviceArgs } from './services.ts';

export type KumaDpProcess = ChildProcess & { output: () => string; exited: Promise<number | null> };

/** `kuma-dp run --cp-address https://localhost:<dp port> ...args`, as a user would run it, with HOME (and TMPDIR) at `home`. */
export function spawnKumaDp(cp: KumaCpProcess, home: string, args: string[], env: Record<string, string> = {}): KumaDpProcess {
  const p = spawn(process.execPath, [...serviceArgs('kuma-dp'), 'run', '--cp-address', `https://localhost:${cp.dpPort}`, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
