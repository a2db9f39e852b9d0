import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.ts';

/** The directory of PostgreSQL's server binaries: PG_BIN, else the newest Debian install, else `pg_config --bindir`. */
function binDir(): string {
  const env = process.env['PG_BIN'];
  if (env) return env;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('PostgreSQL server binaries not found: install postgresql or set PG_BIN to the directory holding initdb and postgres');
  }
}

/** PostgreSQL refuses to run as root: as root, the server runs as this user (Debian's `postgres`). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = process.env['PG_USER'] ?? 'postgres';
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A real PostgreSQL server of its own (initdb into a fresh directory, `postgres` on a free
 * loopback port, trust authentication for the `postgres` superuser), that a test can stop, kill
 * and restart on the same data to prove recovery. No two runs share state.
 */
export class PostgresServer {
  private proc: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly bin: string,
    private readonly user: { uid: number; gid: number } | undefined,
    private readonly settings: readonly string[],
  ) {}

  /** `postgres://postgres@127.0.0.1:<port>/<db>` */
  url(db = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  /** `settings`: extra `-c name=value` server settings; `tls`: a certificate and key to offer TLS with (clients may still connect without). */
  static async start(opts: { settings?: readonly string[]; tls?: { readonly certPem: string; readonly keyPem: string } } = {}): Promise<PostgresServer> {
    const bin = binDir();
    const user = serverUser();
    const dataDir = mkdtempSync(join(tmpdir(), 'kuma-pg-'));
    if (user) chownSync(dataDir, user.uid, user.gid);
    execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(user ?? {}),
    });
    const settings = [...(opts.settings ?? [])];
    if (opts.tls) {
      // The server refuses a key others can read.
      for (const [file, pem, mode] of [['server.crt', opts.tls.certPem, 0o644], ['server.key', opts.tls.keyPem, 0o600]] as const) {
        writeFileSync(join(dataDir, file), pem, { mode });
        chmodSync(join(dataDir, file), mode);
        if (user) chownSync(join(dataDir, file), user.uid, user.gid);
      }
      settings.push('ssl=on', `ssl_cert_file=${join(dataDir, 'server.crt')}`, `ssl_key_file=${join(dataDir, 'server.key')}`);
    }
    const s = new PostgresServer(await freePort(), dataDir, bin, user, settings);
    await s.restart();
    return s;
  }

  /** Starts the server again on the same port and data. */
  async restart(): Promise<void> {
    if (this.proc) throw new Error('postgres is already running');
    const args = ['-D', this.dataDir, '-p', String(this.port), '-h', '127.0.0.1', '-k', this.dataDir, '-c', 'fsync=off', '-c', 'max_connections=200'];
    for (const s of this.settings) args.push('-c', s);
    const proc = spawn(join(this.bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], ...(this.user ?? {}) });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`postgres exited with ${code}: ${stderr}`))));
    exited.catch(() => undefined);
    proc.once('error', () => undefined);
    this.proc = proc;
    await Promise.race([waitForPort(this.port, 20_000), exited]);
    // The port opens before the server accepts queries (recovery after a kill): wait for that too.
    const deadline = Date.now() + 20_000;
    while (!this.ready()) {
      if (Date.now() > deadline) throw new Error(`postgres did not become ready: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.removeAllListeners('exit');
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = undefined;
    });
  }

  private ready(): boolean {
    try {
      execFileSync(join(this.bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(this.port), '-q'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  /** Kills the server abruptly (SIGKILL to the postmaster; its backends follow when they notice). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
    if (signal === 'SIGKILL') {
      // Orphaned backends keep the shared memory and port until they exit; wait for the port to close.
      for (let i = 0; i < 100 && (await portOpen(this.port)); i++) await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the server (fast shutdown) and removes its data. */
  async stop(): Promise<void> {
    await this.kill('SIGINT');
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Creates a database (the server must be running). */
  createDatabase(name: string): void {
    execFileSync(join(this.bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', name], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
}

async function portOpen(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}
