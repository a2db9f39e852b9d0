import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from './config.ts';
import { resolveLogFormat } from './log-options.ts';
import { createLogger } from './logger.ts';

/** A destination that records what was written; `isTTY` as a terminal's stdout would say. */
function sink(isTTY: boolean): PassThrough & { isTTY: boolean; text(): string } {
  const chunks: string[] = [];
  const s = Object.assign(new PassThrough(), { isTTY, text: () => chunks.join('') });
  s.on('data', (d: Buffer) => chunks.push(d.toString()));
  return s;
}

const ANSI = /\u001b\[[0-9;]*m/g;

async function logThrough(dest: ReturnType<typeof sink>, opts: Parameters<typeof createLogger>[0] = {}): Promise<string> {
  const logger = createLogger({ level: 'info', ...opts, destination: dest });
  logger.child({ component: 'xds-server' }).info({ proxy: 'default.web-1', nacks: 2 }, 'stream opened');
  logger.debug('below the level');
  logger.flush();
  await new Promise((r) => setImmediate(r));
  return dest.text();
}

describe('log format', () => {
  it('auto means text on a terminal and JSON lines anywhere else; json and text override it', () => {
    expect(resolveLogFormat('auto', true)).toBe('text');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('text', false)).toBe('text');
  });

  it('writes JSON lines with the component to a pipe', async () => {
    const out = await logThrough(sink(false));
    const lines = out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, component: 'xds-server', proxy: 'default.web-1', nacks: 2, msg: 'stream opened' });
    expect(lines[0]!['time']).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('writes one readable, coloured line per record to a terminal', async () => {
    const out = await logThrough(sink(true));
    expect(out).toMatch(ANSI);
    const plain = out.replace(ANSI, '');
    expect(plain.trimEnd().split('\n')).toHaveLength(1);
    expect(plain).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: \[xds-server\] stream opened \{"proxy":"default.web-1","nacks":2\}\n$/);
    expect(() => JSON.parse(plain)).toThrow();
  });

  it('--log-format json on a terminal and text into a pipe (without colours) override the choice', async () => {
    expect(JSON.parse(await logThrough(sink(true), { format: 'json' }))).toMatchObject({ component: 'xds-server', msg: 'stream opened' });
    const text = await logThrough(sink(false), { format: 'text' });
    expect(text).not.toMatch(ANSI);
    expect(text).toContain('INFO: [xds-server] stream opened');
  });

  it('level off (Kuma) logs nothing', async () => {
    expect(await logThrough(sink(false), { level: 'off' })).toBe('');
  });
});

describe('log configuration', () => {
  it('reads KUMA_LOG_FORMAT and KUMA_LOG_LEVEL, and names the key of a wrong value', () => {
    expect(loadConfig({ env: { KUMA_LOG_FORMAT: 'text', KUMA_LOG_LEVEL: 'debug' } }).config).toMatchObject({ logFormat: 'text', logLevel: 'debug' });
    expect(loadConfig({ env: {} }).config).toMatchObject({ logFormat: 'auto', logLevel: 'info' });
    expect(() => loadConfig({ env: { KUMA_LOG_FORMAT: 'xml' } })).toThrow(new ConfigError('logFormat: must be one of auto, json, text, got "xml"'));
    expect(() => loadConfig({ env: { KUMA_LOG_LEVEL: 'loud' } })).toThrow(/^logLevel: must be one of off, trace, debug, info, warn, error, got "loud"$/);
  });
});
