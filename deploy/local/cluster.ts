/**
 * `npm run cluster:local`: the distributed control plane on loopback. Starts a real
 * nats-server with JetStream, then 1 api, 2 projectors and 2 gateways as separate kuma-cp
 * processes talking only through NATS; prints where everything listens; on Ctrl-C (SIGINT)
 * or SIGTERM stops the roles gracefully, then NATS, and exits 0.
 *
 * Ports (override with env): CLUSTER_NATS_PORT 14222, CLUSTER_API_PORT 5681, gateways on
 * CLUSTER_DP_PORT 5678 and +1 (TLS) and CLUSTER_DP_PLAINTEXT_PORT 5700 and +1 (loopback),
 * diagnostics from CLUSTER_DIAGNOSTICS_PORT 5780 up. Data in CLUSTER_DIR (.cluster-local), with the
 * store encryption key the roles share (`store-encryption.key`, generated on the first run).
 * Dataplane authentication stays on (tokens from `POST /tokens/dataplane`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateKeyFile } from '../../libs/secrets/key-file.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const NATS_PORT = num('CLUSTER_NATS_PORT', 14222);
const API_PORT = num('CLUSTER_API_PORT', 5681);
const DP_PORT = num('CLUSTER_DP_PORT', 5678);
const DP_PLAINTEXT_PORT = num('CLUSTER_DP_PLAINTEXT_PORT', 5700);
const DIAG_PORT = num('CLUSTER_DIAGNOSTICS_PORT', 5780);
const DIR = resolve(process.env['CLUSTER_DIR'] ?? join(ROOT, '.cluster-local'));
/** The store encryption keyring all roles share: generated (0600) on the first run, kept with the data after. */
const KEY_FILE = join(DIR, 'store-encryption.key');
const NATS_BIN = process.env['NATS_SERVER_BIN'] ?? 'nats-server';

interface Member {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly ready: () => Promise<void>;
  readonly endpoints: string;
}

const members: Member[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, proc: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with code ${proc.exitCode} (see ${DIR}/logs)`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000} s (see ${DIR}/logs)`);
    await sleep(150);
  }
}

function logFile(name: string): { fd: number; path: string } {
  const path = join(DIR, 'logs', `${name}.log`);
  return { fd: openSync(path, 'a'), path };
}

function startNats(): Member {
  const log = logFile('nats-server');
  const proc = spawn(NATS_BIN, ['-a', '127.0.0.1', '-p', String(NATS_PORT), '-js', '-sd', join(DIR, 'nats')], { stdio: ['ignore', log.fd, log.fd] });
  const ready = () =>
    until(
      'nats-server',
      async () => {
        const { connect } = await import('node:net');
        return new Promise<boolean>((res) => {
          const s = connect(NATS_PORT, '127.0.0.1');
          s.once('connect', () => (s.destroy(), res(true)));
          s.once('error', () => res(false));
        });
      },
      proc,
    );
  return { name: 'nats-server', proc, ready, endpoints: `nats://127.0.0.1:${NATS_PORT} (JetStream in ${join(DIR, 'nats')})` };
}

function startRole(name: string, roles: string, diag: number, env: Record<string, string>, endpoints: string): Member {
  const log = logFile(name);
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services/kuma-cp/main.ts'), 'run', '--roles', roles], {
    cwd: ROOT,
    env: {
      ...process.env,
      KUMA_STORE_TYPE: 'nats',
      KUMA_STORE_NATS_URL: `nats://127.0.0.1:${NATS_PORT}`,
      KUMA_DIAGNOSTICS_SERVER_PORT: String(diag),
      KUMA_GENERAL_WORK_DIR: join(DIR, 'work'),
      // Every role reads the log, so every role holds the one store encryption keyring.
      KUMA_STORE_ENCRYPTION_KEY_FILE: KEY_FILE,
      ...env,
    },
    stdio: ['ignore', log.fd, log.fd],
  });
  const ready = () => until(name, async () => (await fetch(`http://127.0.0.1:${diag}/ready`)).ok, proc);
  return { name, proc, ready, endpoints: `${endpoints}; diagnostics http://127.0.0.1:${diag} (/ready, /metrics); log ${log.path}` };
}

async function stop(m: Member, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (m.proc.exitCode !== null || m.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => m.proc.once('exit', () => r()));
  m.proc.kill(signal);
  const timer = setTimeout(() => m.proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  process.stdout.write('\nstopping: gateways, projectors, api, then nats-server\n');
  const roles = members.filter((m) => m.name !== 'nats-server').reverse();
  for (const m of roles) {
    await stop(m);
    process.stdout.write(`  stopped ${m.name}\n`);
  }
  for (const m of members.filter((x) => x.name === 'nats-server')) {
    await stop(m);
    process.stdout.write(`  stopped ${m.name}\n`);
  }
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

async function main(): Promise<void> {
  mkdirSync(join(DIR, 'logs'), { recursive: true });
  mkdirSync(join(DIR, 'work'), { recursive: true });
  if (!existsSync(KEY_FILE)) generateKeyFile(KEY_FILE);
  const steps: (() => Member)[] = [
    startNats,
    () => startRole('api', 'api', DIAG_PORT, { KUMA_API_SERVER_HTTP_PORT: String(API_PORT) }, `REST API http://127.0.0.1:${API_PORT}`),
    () => startRole('projector-1', 'projector', DIAG_PORT + 1, {}, 'projector'),
    () => startRole('projector-2', 'projector', DIAG_PORT + 2, {}, 'projector'),
    // The gateways share one work dir, so they serve the same (generated) certificate: start them one by one.
    () => startRole('gateway-1', 'gateway', DIAG_PORT + 3, { KUMA_DP_SERVER_PORT: String(DP_PORT), KUMA_DP_SERVER_PLAINTEXT_PORT: String(DP_PLAINTEXT_PORT) }, `ADS + bootstrap https://127.0.0.1:${DP_PORT}, plaintext ADS 127.0.0.1:${DP_PLAINTEXT_PORT}`),
    () => startRole('gateway-2', 'gateway', DIAG_PORT + 4, { KUMA_DP_SERVER_PORT: String(DP_PORT + 1), KUMA_DP_SERVER_PLAINTEXT_PORT: String(DP_PLAINTEXT_PORT + 1) }, `ADS + bootstrap https://127.0.0.1:${DP_PORT + 1}, plaintext ADS 127.0.0.1:${DP_PLAINTEXT_PORT + 1}`),
  ];
  for (const [i, step] of steps.entries()) {
    const m = step();
    members.push(m);
    process.stdout.write(`[${i + 1}/${steps.length}] starting ${m.name}... `);
    const t0 = Date.now();
    await m.ready();
    process.stdout.write(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  process.stdout.write('\ncluster ready:\n');
  for (const m of members) process.stdout.write(`  ${m.name.padEnd(12)} ${m.endpoints}\n`);
  process.stdout.write(`\nkumactl config control-planes add --name cluster-local --address http://127.0.0.1:${API_PORT} --overwrite\nCtrl-C stops everything.\n`);
  for (const m of members) {
    m.proc.once('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`${m.name} exited unexpectedly (code ${code}, signal ${signal}); see ${DIR}/logs/${m.name}.log\n`);
    });
  }
}

main().catch(async (err: Error) => {
  process.stderr.write(`\ncluster:local failed: ${err.message}\n`);
  await shutdown(1);
});
