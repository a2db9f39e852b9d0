import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { KumaCpProcess, REPO_ROOT } from '../../libs/testkit/kuma-cp.ts';
import { serviceArgs } from '../../libs/testkit/services.ts';

/**
 * The processes' own choice of log format: JSON lines into a pipe (what a collector and these tests
 * read), text on a terminal (a real pseudo-terminal through util-linux `script`), and
 * `--log-format` / `KUMA_LOG_FORMAT` overriding it.
 */
const started: KumaCpProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((cp) => cp.destroy()));
});

async function cpOutput(opts: { env?: Record<string, string>; args?: string[] }): Promise<string[]> {
  const cp = await KumaCpProcess.start({ env: { KUMA_STORE_TYPE: 'memory', ...opts.env }, ...(opts.args ? { args: opts.args } : {}) });
  started.push(cp);
  // Ready means the start-up lines are written; stop it so the shutdown lines are in too.
  expect(await cp.stop()).toBe(0);
  return cp.output.trimEnd().split('\n');
}

/**
 * The log line among what a failing kuma-dp printed: its stderr ("Error: ...") and its log share
 * a terminal (or are read from two pipes), so which comes first is up to the scheduler.
 */
const logLine = (out: string): string => out.split(/\r?\n/).find((l) => l.startsWith('{')) ?? out;

/** kuma-dp without a name fails at once, after logging one error line. */
function kumaDpFailure(args: string[], opts: { tty: boolean }): Promise<{ code: number | null; out: string }> {
  const node = [process.execPath, ...serviceArgs('kuma-dp'), 'run', '--cp-address', 'https://127.0.0.1:1', ...args];
  const [cmd, argv] = opts.tty ? ['script', ['-qec', node.map((a) => `'${a}'`).join(' '), '/dev/null']] : [node[0]!, node.slice(1)];
  return new Promise((resolve) => {
    const p = spawn(cmd as string, argv as string[], { cwd: REPO_ROOT, env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

describe('log format of the processes', () => {
  it('kuma-cp writes JSON lines, each with a component, into a pipe', async () => {
    const lines = await cpOutput({});
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: expect.any(Number), time: expect.any(String), msg: expect.any(String) });
    expect(lines.map((l) => (JSON.parse(l) as { component?: string }).component).filter(Boolean).length).toBe(lines.length);
  });

  it('kuma-cp writes text with KUMA_LOG_FORMAT=text, and --log-format json overrides the variable', async () => {
    const [text, json] = await Promise.all([cpOutput({ env: { KUMA_LOG_FORMAT: 'text' } }), cpOutput({ env: { KUMA_LOG_FORMAT: 'text' }, args: ['--log-format', 'json'] })]);
    expect(text.length).toBeGreaterThan(3);
    for (const line of text) expect(line).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN): \[[a-z-]+\] /);
    for (const line of json) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('kuma-cp refuses an unknown --log-format and KUMA_LOG_FORMAT, naming it', async () => {
    const flag = await kumaCpExit(['run', '--log-format', 'xml'], {});
    expect(flag.code).toBe(1);
    expect(flag.out).toContain("option '--log-format <format>' argument 'xml' is invalid. Allowed choices are auto, json, text.");
    const env = await kumaCpExit(['run'], { KUMA_LOG_FORMAT: 'xml' });
    expect(env.code).toBe(1);
    expect(env.out).toContain('Error: invalid configuration: logFormat: must be one of auto, json, text, got "xml"');
  });

  it('kuma-dp writes text to a terminal and JSON into a pipe; --log-format overrides both', async () => {
    const tty = await kumaDpFailure([], { tty: true });
    expect(tty.code).toBe(1);
    expect(tty.out).toMatch(/\] .*ERROR.*: .*\[kuma-dp\] kuma-dp run failed/);
    expect(tty.out).not.toContain('"level"');
    const pipe = await kumaDpFailure([], { tty: false });
    expect(JSON.parse(logLine(pipe.out))).toMatchObject({ level: 50, component: 'kuma-dp', msg: 'kuma-dp run failed' });
    const ttyJson = await kumaDpFailure(['--log-format', 'json'], { tty: true });
    expect(JSON.parse(logLine(ttyJson.out))).toMatchObject({ component: 'kuma-dp', msg: 'kuma-dp run failed' });
    const pipeText = await kumaDpFailure(['--log-format', 'text'], { tty: false });
    expect(pipeText.out).toMatch(/^\[[^\]]+\] ERROR: \[kuma-dp\] kuma-dp run failed/m);
  });
});

function kumaCpExit(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...serviceArgs('kuma-cp'), ...args], { cwd: REPO_ROOT, env: { PATH: process.env['PATH'] ?? '', HOME: '/nonexistent', KUMA_STORE_TYPE: 'memory', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => resolve({ code, out }));
  });
}
