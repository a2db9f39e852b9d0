import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.ts';

/**
 * A real nats-server with JetStream, on a free loopback port and a private data directory,
 * that a test can stop, kill and restart (keeping its data) to prove recovery.
 */
export class NatsServer {
  private proc: ChildProcess | undefined;

  /** The running server's process id (benchmarks read its CPU). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly binary: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  static async start(opts: { binary?: string } = {}): Promise<NatsServer> {
    const s = new NatsServer(
      await freePort(),
      mkdtempSync(join(tmpdir(), 'kuma-nats-')),
      opts.binary ?? process.env['NATS_SERVER_BIN'] ?? 'nats-server',
    );
    await s.restart();
    return s;
  }

  /** Starts the process again on the same port and data directory. */
  async restart(): Promise<void> {
    if (this.proc) throw new Error('nats-server is already running');
    const proc = spawn(this.binary, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${stderr}`))),
    );
    exited.catch(() => undefined);
    proc.once('error', () => undefined);
    this.proc = proc;
    await Promise.race([waitForPort(this.port, 10_000), exited]);
    proc.removeAllListeners('exit');
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = undefined;
    });
  }

  /** Kills the server abruptly (SIGKILL): nothing is flushed beyond what JetStream already synced. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
