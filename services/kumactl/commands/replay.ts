import type { Command } from 'commander';
import { Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { lines } from '../client.ts';
import { contextOf } from '../context.ts';
import { renderTable } from '../table.ts';
import { output } from './get.ts';

interface VerifyResult {
  ok: boolean;
  position: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  liveDigest: string;
  rebuiltDigest: string;
  checkpoints: { seq: number; ok: boolean }[];
  differences: { subject: string; live?: string; rebuilt?: string }[];
}

type Line = { progress: { seq: number; to: number; events: number } } | { result: VerifyResult } | { error: string };

function seconds(s: number): string {
  return s < 10 ? `${s.toFixed(3)}s` : `${s.toFixed(1)}s`;
}

function summary(r: VerifyResult): string {
  const rebuilt = `rebuilt ${r.events} events up to sequence ${r.position} in ${seconds(r.seconds)} (${r.eventsPerSecond} events/s)`;
  const checkpoints = `${r.checkpoints.length} checkpoint${r.checkpoints.length === 1 ? '' : 's'}`;
  if (r.ok) return `OK: ${rebuilt}; digest ${r.liveDigest}; ${checkpoints} verified\n`;
  const badCheckpoints = r.checkpoints.filter((c) => !c.ok);
  let out = `MISMATCH: ${rebuilt}; live digest ${r.liveDigest}, rebuilt digest ${r.rebuiltDigest}; ${r.checkpoints.length - badCheckpoints.length} of ${checkpoints} match\n`;
  for (const c of badCheckpoints) out += `checkpoint at sequence ${c.seq} does not match the rebuilt state\n`;
  if (r.differences.length > 0) {
    out += '\n' + renderTable(['SUBJECT', 'LIVE', 'REBUILT'], r.differences.map((d) => [d.subject, d.live ?? '-', d.rebuilt ?? '-']));
  }
  return out;
}

/** `kumactl replay --verify`: the control plane rebuilds its state from the log and compares it with the live one. */
export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('Rebuild the resource state from the event log on the control plane and check it matches the live state')
    .option('--verify', 'rebuild in a scratch state and compare digests (the live state is not changed)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (opts: { verify?: boolean; output: string }, cmd: Command) => {
      if (!opts.verify) throw new Error('only --verify is supported: run kumactl replay --verify');
      const ctx = contextOf(cmd);
      const res = await ctx.client.stream('POST', '/_replay/verify', { headers: { accept: 'application/x-ndjson' } });
      const bar = process.stderr.isTTY ? new SingleBar({ format: 'replaying {bar} {percentage}% | sequence {value}/{total} | {events} events', hideCursor: true }) : undefined;
      let result: VerifyResult | undefined;
      try {
        for await (const raw of lines(res)) {
          let line: Line;
          try {
            line = JSON.parse(raw) as Line;
          } catch {
            throw new Error(`the control plane sent a line that is not JSON: ${raw.slice(0, 200)}`);
          }
          if ('progress' in line) {
            const p = line.progress;
            if (bar && !bar.isActive) bar.start(p.to, 0, { events: 0 });
            bar?.setTotal(p.to);
            bar?.update(p.seq, { events: p.events });
          } else if ('error' in line) {
            throw new Error(`replay verification failed on the control plane: ${line.error}`);
          } else if ('result' in line) {
            result = line.result;
          }
        }
      } finally {
        bar?.stop();
      }
      if (!result) throw new Error('the control plane ended the replay without a result');
      if (opts.output === 'json') output('json', result);
      else process.stdout.write(summary(result));
      if (!result.ok) process.exitCode = 1;
    });
}
