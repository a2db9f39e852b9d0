import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../libs/testkit/kuma-cp.ts';
import { freePort } from '../../libs/testkit/ports.ts';

const dir = mkdtempSync(join(tmpdir(), 'kuma-cluster-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe('npm run cluster:local', () => {
  it('starts nats-server, 1 api, 2 projectors and 2 gateways, and stops them all on SIGINT', async () => {
    const ports = { nats: await freePort(), api: await freePort(), dp: await freePort(), plain: await freePort(), diag: await freePort() };
    // the launcher counts up from the base ports: keep the ranges apart
    const env = {
      ...process.env,
      CLUSTER_DIR: dir,
      CLUSTER_NATS_PORT: String(ports.nats),
      CLUSTER_API_PORT: String(ports.api),
      CLUSTER_DP_PORT: String(ports.dp),
      CLUSTER_DP_PLAINTEXT_PORT: String(ports.plain),
      CLUSTER_DIAGNOSTICS_PORT: String(ports.diag),
    };
    const proc = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), join(REPO_ROOT, 'deploy/local/cluster.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (!out.includes('cluster ready')) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`cluster not ready:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(out).toMatch(/\[6\/6\] starting gateway-2\.\.\. ready/);
    expect(((await (await fetch(`http://127.0.0.1:${ports.api}/`)).json()) as { product: string }).product).toBe('Kuma');
    for (const p of [ports.nats, ports.dp, ports.dp + 1, ports.plain, ports.plain + 1, ports.diag + 1, ports.diag + 2]) expect(await listening(p)).toBe(true);

    proc.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toMatch(/stopped gateway-2[\s\S]*stopped api[\s\S]*stopped nats-server/);
    for (const p of [ports.nats, ports.api, ports.dp, ports.dp + 1]) expect(await listening(p)).toBe(false);
  }, 90_000);
});
