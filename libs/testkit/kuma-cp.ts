import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { generateKeyFile } from '../secrets/key-file.ts';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.ts';
import { serviceArgs } from './services.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let sharedKeyFile: string | undefined;
/**
 * One store encryption key file for every kuma-cp this test process starts on the nats store
 * (replicas of one cluster must share it; the nats store does not generate one).
 */
export function sharedStoreKeyFile(): string {
  if (!sharedKeyFile) {
    const dir = mkdtempSync(join(tmpdir(), 'kuma-kek-'));
    sharedKeyFile = join(dir, 'store-encryption.key');
    generateKeyFile(sharedKeyFile);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return sharedKeyFile;
}

/**
 * A real `kuma-cp run` child process on free loopback ports with a private data directory.
 * `stop()` sends SIGTERM and resolves with the exit code; `restart()` keeps the data.
 */
export class KumaCpProcess {
  private proc: ChildProcess | undefined;
  output = '';

  private constructor(
    readonly apiPort: number,
    readonly diagnosticsPort: number,
    /** ADS over TLS and /bootstrap. */
    readonly dpPort: number,
    /** ADS without TLS on loopback (set only when started with `plaintext: true`). */
    readonly dpPlaintextPort: number,
    readonly dataDir: string,
    private readonly env: Record<string, string>,
    private readonly args: string[],
    private readonly nodeArgs: string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** The dp-server certificate generated at first start (pin it like kuma-dp --ca-cert-file). */
  get caCertFile(): string {
    return join(this.dataDir, 'work', 'dp-server.crt');
  }

  /** `nodeArgs` go to node itself (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  static async start(opts: { env?: Record<string, string>; args?: string[]; plaintext?: boolean; nodeArgs?: string[] } = {}): Promise<KumaCpProcess> {
    const cp = new KumaCpProcess(
      await freePort(),
      await freePort(),
      await freePort(),
      opts.plaintext ? await freePort() : 0,
      mkdtempSync(join(tmpdir(), 'kuma-cp-')),
      opts.env ?? {},
      opts.args ?? [],
      opts.nodeArgs ?? [],
    );
    await cp.restart();
    return cp;
  }

  /** The environment every child of this instance gets (its ports, directories and settings). */
  private childEnv(): Record<string, string> {
    return {
      PATH: process.env['PATH'] ?? '',
      HOME: this.dataDir,
      KUMA_API_SERVER_HTTP_PORT: String(this.apiPort),
      // Tests reach the API over HTTP; a test that wants HTTPS sets both (5682 is fixed otherwise).
      KUMA_API_SERVER_HTTPS_ENABLED: 'false',
      KUMA_DIAGNOSTICS_SERVER_PORT: String(this.diagnosticsPort),
      KUMA_STORE_EMBEDDED_DATA_DIR: join(this.dataDir, 'store'),
      KUMA_GENERAL_WORK_DIR: join(this.dataDir, 'work'),
      KUMA_DP_SERVER_PORT: String(this.dpPort),
      ...(this.dpPlaintextPort ? { KUMA_DP_SERVER_PLAINTEXT_PORT: String(this.dpPlaintextPort) } : {}),
      KUMA_LOG_LEVEL: 'info',
      ...(this.env['KUMA_STORE_TYPE'] === 'nats' || this.env['KUMA_STORE_TYPE'] === 'postgres' || this.env['KUMA_STORE_KUBERNETES_LOG'] === 'nats' ? { KUMA_STORE_ENCRYPTION_KEY_FILE: sharedStoreKeyFile() } : {}),
      ...this.env,
    };
  }

  /** Runs a `kuma-cp` command without an instance (e.g. `migrate up`), in a fresh HOME, with `env`. */
  static command(args: readonly string[], env: Record<string, string>): Promise<CommandResult> {
    return runKumaCp(args, { PATH: process.env['PATH'] ?? '', HOME: mkdtempSync(join(tmpdir(), 'kuma-cp-cmd-')), ...env });
  }

  /** Runs another `kuma-cp` command (e.g. `encryption rotate-key`) with this instance's settings. */
  exec(args: readonly string[]): Promise<CommandResult> {
    return runKumaCp(args, this.childEnv());
  }

  async restart(): Promise<void> {
    if (this.proc) throw new Error('kuma-cp is already running');
    const proc = spawn(process.execPath, [...this.nodeArgs, ...serviceArgs('kuma-cp'), 'run', ...this.args], {
      cwd: REPO_ROOT,
      env: this.childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    const append = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-64_000));
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`kuma-cp exited with ${proc.exitCode}:\n${this.output}`);
      try {
        // The diagnostics server answers /ready for every role (a gateway has no API).
        const res = await fetch(`http://127.0.0.1:${this.diagnosticsPort}/ready`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`kuma-cp not ready after 30 s:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The process has exited by itself (stop() then resolves with its exit code). */
  get exited(): boolean {
    return this.proc !== undefined && this.proc.exitCode !== null;
  }

  /** SIGTERM (graceful) or SIGKILL; resolves with the exit code (null when killed by a signal). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const p = this.proc;
    if (!p) return null;
    this.proc = undefined;
    if (p.exitCode !== null) return p.exitCode;
    return new Promise((resolve) => {
      p.once('exit', (code) => resolve(code));
      p.kill(signal);
    });
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One `kuma-cp` command to its end, with its output. */
function runKumaCp(args: readonly string[], env: Record<string, string>): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...serviceArgs('kuma-cp'), ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('error', reject);
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
