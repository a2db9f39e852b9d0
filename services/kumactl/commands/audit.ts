import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { lines, type ApiClient } from '../client.ts';
import { contextOf, type CliContext } from '../context.ts';
import { renderTable } from '../table.ts';
import { output, resolveType } from './get.ts';

/** One event of the audit feed (`GET /_events`). */
export interface AuditEvent {
  seq: number;
  id: string;
  time: string;
  operation: 'upsert' | 'delete';
  type: string;
  mesh?: string;
  name: string;
  actor: { subject: string; source: string; requestId?: string; address?: string };
  resource?: unknown;
}

interface EventsPage {
  items: AuditEvent[];
  next: string | null;
  range: { from: number; until: number };
}

interface FilterOptions {
  since?: string;
  until?: string;
  mesh?: string;
  type?: string;
  name?: string;
  actor?: string;
  operation?: string;
}

const FILTERS = ['since', 'until', 'mesh', 'type', 'name', 'actor', 'operation'] as const satisfies readonly (keyof FilterOptions)[];

/** The largest page the API answers. */
const MAX_PAGE = 1000;

function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('--since <point>', 'only events from this point on: a sequence number, an RFC 3339 time, or a duration back from now (2h, 30m)')
    .option('--until <point>', 'only events up to this point: a sequence number, an RFC 3339 time, or a duration back from now')
    .option('-m, --mesh <mesh>', 'only events of resources in this mesh')
    .option('--type <type>', 'only events of this resource type, e.g. dataplane, mesh')
    .option('--name <name>', 'only events of resources with this name')
    .option('--actor <subject>', 'only events made by this user or token subject')
    .addOption(new Option('--operation <operation>', 'only this kind of change').choices(['upsert', 'delete']));
}

/** The feed's query parameters for the filters given on the command line. */
function filterQuery(ctx: CliContext, opts: FilterOptions): URLSearchParams {
  const q = new URLSearchParams();
  if (opts.since !== undefined) q.set('since', opts.since);
  if (opts.until !== undefined) q.set('until', opts.until);
  if (opts.mesh !== undefined) q.set('mesh', opts.mesh);
  if (opts.type !== undefined) q.set('type', resolveType(ctx.registry, opts.type).name);
  if (opts.name !== undefined) q.set('name', opts.name);
  if (opts.actor !== undefined) q.set('actor', opts.actor);
  if (opts.operation !== undefined) q.set('operation', opts.operation);
  return q;
}

function positiveInt(raw: string, flag: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${flag} must be a positive integer, got "${raw}"`);
  return Number(raw);
}

/** A `next` link of the API as a path to request through the client (its scheme and host dropped), with the page size set. */
function nextPath(next: string, size: number): string {
  const u = new URL(next, 'http://placeholder');
  u.searchParams.set('size', String(size));
  return `${u.pathname}?${u.searchParams.toString()}`;
}

/** Pages through the feed until it ends or `limit` events; `more` tells whether the feed goes on past them. */
async function collectEvents(
  client: ApiClient,
  query: URLSearchParams,
  limit: number,
  pageSize: number,
): Promise<{ items: AuditEvent[]; range: EventsPage['range'] | undefined; more: boolean }> {
  const items: AuditEvent[] = [];
  let range: EventsPage['range'] | undefined;
  const first = new URLSearchParams(query);
  first.set('size', String(Math.min(limit, pageSize)));
  let path: string | null = `/_events?${first.toString()}`;
  while (path !== null && items.length < limit) {
    const page: EventsPage = await client.request<EventsPage>('GET', path);
    range ??= page.range;
    items.push(...page.items.slice(0, limit - items.length));
    path = page.next === null ? null : nextPath(page.next, Math.min(limit - items.length, pageSize) || 1);
  }
  // The limit was reached with a `next` link: look one event ahead, so the footer only claims more when there is.
  let more = false;
  if (path !== null) {
    const probe = await client.request<EventsPage>('GET', path);
    more = probe.items.length > 0 || probe.next !== null;
  }
  return { items, range, more };
}

function printEvents(items: readonly AuditEvent[]): void {
  const rows = items.map((e) => [
    String(e.seq),
    e.time,
    e.actor.subject,
    e.actor.source,
    e.operation,
    e.type,
    e.mesh ?? '-',
    e.name,
    e.actor.requestId ?? '-',
  ]);
  process.stdout.write(renderTable(['SEQ', 'TIME', 'ACTOR', 'SOURCE', 'OPERATION', 'TYPE', 'MESH', 'NAME', 'REQUEST-ID'], rows));
}

/** Writes to a stream, waiting when it asks to (a slow file or pipe never makes the export buffer). */
async function writeTo(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain'); // rejects on the stream's 'error'
}

function seqOf(line: string): number | undefined {
  const fast = /^\{"seq":(\d+)[,}]/.exec(line); // the API writes seq first
  if (fast) return Number(fast[1]);
  try {
    const seq = (JSON.parse(line) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}

/** A file opened for writing, or an error naming it (before anything is read from the control plane's answer). */
function openForWriting(path: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const file = createWriteStream(path);
    const onError = (err: Error) => reject(new Error(`could not write ${path}: ${err.message}`));
    file.once('error', onError);
    file.once('open', () => {
      file.off('error', onError);
      resolve(file);
    });
  });
}

/** `x-kuma-range: <from>-<until>` as numbers, when the answer has it. */
function rangeOf(res: Response): { from: number; until: number } | undefined {
  const m = /^(\d+)-(\d+)$/.exec(res.headers.get('x-kuma-range') ?? '');
  return m ? { from: Number(m[1]), until: Number(m[2]) } : undefined;
}

async function exportEvents(ctx: CliContext, opts: FilterOptions & { outputFile?: string }): Promise<void> {
  const query = filterQuery(ctx, opts);
  query.set('format', 'jsonl');
  const res = await ctx.client.stream('GET', `/_events?${query.toString()}`, { headers: { accept: 'application/x-ndjson' } });
  const range = rangeOf(res);

  let file: WriteStream | undefined;
  if (opts.outputFile !== undefined) {
    file = await openForWriting(opts.outputFile).catch(async (err: unknown) => {
      await res.body?.cancel().catch(() => undefined);
      throw err;
    });
  }
  const out: NodeJS.WritableStream = file ?? process.stdout;
  // A bar on stderr only when a person watches it, and not over the events themselves.
  const showBar = process.stderr.isTTY && (file !== undefined || !process.stdout.isTTY) && range !== undefined && range.until >= range.from;
  const bar = showBar ? new SingleBar({ format: 'exporting {bar} {percentage}% | sequence {seq} | {events} events', hideCursor: true }) : undefined;
  bar?.start(range!.until - range!.from + 1, 0, { seq: range!.from, events: 0 });

  let count = 0;
  let firstSeq: number | undefined;
  let lastSeq: number | undefined;
  // An error of the output (a full disk, a closed pipe) between writes is thrown at the next one.
  let outError: Error | undefined;
  out.on('error', (err: Error) => (outError ??= err));
  const write = async (chunk: string) => {
    try {
      if (outError) throw outError;
      await writeTo(out, chunk);
    } catch (err) {
      outError ??= err as Error;
      throw err;
    }
  };
  try {
    for await (const line of lines(res)) {
      await write(line + '\n');
      count++;
      const seq = seqOf(line);
      if (seq !== undefined) {
        firstSeq ??= seq;
        lastSeq = seq;
        bar?.update(seq - range!.from + 1, { seq, events: count });
      }
    }
    bar?.update(range!.until - range!.from + 1, { seq: range!.until, events: count });
  } catch (err) {
    const stopped = `the export stopped after ${count} events${lastSeq !== undefined ? ` (last sequence ${lastSeq})` : ''}`;
    if (err !== outError) throw new Error(`${stopped}: the answer of the control plane broke off: ${(err as Error).message}`);
    // Whoever read stdout stopped reading (`| head`): not a failure of the export.
    if (file === undefined && (err as NodeJS.ErrnoException).code === 'EPIPE') return;
    throw new Error(`${stopped}: could not write ${opts.outputFile ?? 'stdout'}: ${(err as Error).message}`);
  } finally {
    bar?.stop();
    if (file && !file.closed) {
      file.end();
      await once(file, 'close').catch(() => undefined);
    }
  }
  const from = range?.from ?? firstSeq;
  const until = range?.until ?? lastSeq;
  process.stderr.write(`exported ${count} events${from !== undefined && until !== undefined ? ` (seq ${from}-${until})` : ''}\n`);
}

/** `kumactl audit` (a page of the audit feed as a table) and `kumactl audit export` (the whole range as JSON Lines). */
export function registerAudit(program: Command): void {
  const audit = addFilterOptions(
    program
      .command('audit')
      .description('Show who changed which resources, and when (the control plane\'s audit feed)'),
  )
    .option('--limit <n>', 'show at most this many events', '500')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'yaml', 'json']).default('table'))
    // Events per request (the API's maximum is 1000): small pages let tests follow `next` links without 1000 events.
    .addOption(new Option('--page-size <n>').default(String(MAX_PAGE)).hideHelp())
    .action(async (opts: FilterOptions & { limit: string; output: string; pageSize: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const limit = positiveInt(opts.limit, '--limit');
      const pageSize = Math.min(positiveInt(opts.pageSize, '--page-size'), MAX_PAGE);
      const query = filterQuery(ctx, opts);
      const { items, range, more } = await collectEvents(ctx.client, query, limit, pageSize);
      if (opts.output !== 'table') return output(opts.output, { total: items.length, items, ...(range ? { range } : {}), truncated: more });
      printEvents(items);
      if (more) process.stdout.write(`\nshowing ${items.length} events; more with --limit or 'kumactl audit export'\n`);
    });

  addFilterOptions(
    audit
      .command('export')
      .description('Write every event of the audit feed that matches the filters as JSON Lines, one event a line'),
  )
    .option('--output-file <path>', 'write to this file instead of stdout')
    .action(async (opts: FilterOptions & { outputFile?: string }, cmd: Command) => {
      // Commander hands options the parent also declares to the parent, wherever they stand: take the filters from there.
      for (const [key, flag] of [['limit', '--limit'], ['output', '--output'], ['pageSize', '--page-size']] as const) {
        if (audit.getOptionValueSource(key) === 'cli') throw new Error(`${flag} does not apply to 'kumactl audit export': it writes every matching event as JSON Lines`);
      }
      const inherited = audit.opts<FilterOptions>();
      const filters: FilterOptions = {};
      for (const key of FILTERS) {
        const value = opts[key] ?? inherited[key];
        if (value !== undefined) filters[key] = value;
      }
      await exportEvents(contextOf(cmd), { ...filters, ...(opts.outputFile !== undefined ? { outputFile: opts.outputFile } : {}) });
    });
}
