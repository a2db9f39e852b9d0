import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KumaCpProcess } from './kuma-cp.ts';
import { serviceArgs } from './services.ts';

export interface KumactlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kumactl as a user would, against `cp`, with a throwaway config file. */
export function runKumactl(cp: KumaCpProcess, args: string[], stdin = ''): Promise<KumactlResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kumactl-'));
  writeFileSync(
    join(dir, 'config'),
    stringify({ contexts: [{ name: 't', controlPlane: 't' }], controlPlanes: [{ name: 't', coordinates: { apiServer: { url: cp.url } } }], currentContext: 't' }),
  );
  return kumactlWithConfig(join(dir, 'config'), dir, args, stdin);
}

/** Runs kumactl with a given config file and HOME. */
export function kumactlWithConfig(configFile: string, home: string, args: string[], stdin = ''): Promise<KumactlResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...serviceArgs('kumactl'), '--config-file', configFile, ...args], {
      env: { PATH: process.env['PATH'] ?? '', HOME: home },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(stdin);
  });
}
