import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { stringify } from 'yaml';
import { DecodeError, decodeYamlDocuments } from '../../../libs/resources/decode.ts';
import { decodeResource } from '../../../libs/resources/wire.ts';
import { contextOf, writeOut } from '../context.ts';
import { resourcePath } from '../paths.ts';
import { output } from './get.ts';
import { renderPreview, type PreviewAnswer } from './preview.ts';

function readInput(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`could not read ${file === '-' ? 'stdin' : file}: ${(err as Error).message}`);
  }
}

/**
 * Parses multi-document YAML (or JSON) through the hardened decoder (size, depth, alias and
 * prototype-key bounds, as the API applies); each error names the document.
 */
export function parseDocuments(text: string, source: string): Record<string, unknown>[] {
  let docs: unknown[];
  try {
    docs = decodeYamlDocuments(text);
  } catch (err) {
    if (err instanceof DecodeError) throw new Error(`${source}: YAML document ${err.document ?? 1} is malformed: ${err.field ? `${err.field}: ` : ''}${err.reason.replace(/^document \d+: /, '')}`);
    throw err;
  }
  const out: Record<string, unknown>[] = [];
  docs.forEach((value, i) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${source}: YAML document ${i + 1} is not a resource object`);
    out.push(value as Record<string, unknown>);
  });
  if (out.length === 0) throw new Error(`${source}: no resources found`);
  return out;
}

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('Create or modify Kuma resources')
    .requiredOption('-f, --file <path>', 'path to the file with resources, or - for stdin')
    .option('--dry-run', 'validate the resources on the control plane and show which data plane proxies would change and how, without applying anything')
    .addOption(new Option('-o, --output <format>', 'output format of --dry-run').choices(['text', 'yaml', 'json']).default('text'))
    .action(async (opts: { file: string; dryRun?: boolean; output: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const source = opts.file === '-' ? 'stdin' : opts.file;
      const docs = parseDocuments(readInput(opts.file), source);
      // Validate everything locally first, so a bad document in the middle applies nothing.
      const inputs = docs.map((doc, i) => {
        try {
          return { doc, input: decodeResource(doc, ctx.registry), descriptor: ctx.registry.get(String(doc['type'])) };
        } catch (err) {
          const e = err as Error & { violations?: { field: string; reason: string }[] };
          const where = `${source}: document ${i + 1} (${String(doc['type'] ?? '?')} "${String(doc['name'] ?? '?')}")`;
          throw new Error([`${where}: ${e.message}`, ...(e.violations ?? []).map((v) => `* ${v.field}: ${v.reason}`)].join('\n'));
        }
      });
      if (opts.dryRun) {
        // Each document is previewed against the current state on its own (not as a batch).
        // Global resources (Meshes) have no preview yet: they are validated locally and printed.
        const answers: { doc: Record<string, unknown>; preview?: PreviewAnswer }[] = [];
        for (const { doc, input, descriptor } of inputs) {
          const preview = descriptor.scope === 'Mesh' ? await ctx.client.request<PreviewAnswer>('POST', `${resourcePath(descriptor, input.mesh, input.name)}/_preview`, doc) : undefined;
          answers.push({ doc, ...(preview ? { preview } : {}) });
        }
        if (opts.output !== 'text') {
          const shown = answers.map((a) => a.preview ?? a.doc);
          return output(opts.output, shown.length === 1 ? shown[0] : shown);
        }
        writeOut(answers.map((a) => (a.preview ? renderPreview(a.preview) : stringify(a.doc))).join('---\n'));
        return;
      }
      const bar = process.stderr.isTTY && inputs.length > 10 ? new SingleBar({ format: 'applying {bar} {value}/{total}' }) : undefined;
      bar?.start(inputs.length, 0);
      try {
        for (const { doc, input, descriptor } of inputs) {
          const answer = await ctx.client.request<{ warnings?: unknown }>('PUT', resourcePath(descriptor, input.mesh, input.name), doc);
          // Kuma's deprecation warnings (a Mesh name that is not RFC 1035): applied, but worth saying.
          if (Array.isArray(answer.warnings)) for (const w of answer.warnings) process.stderr.write(`Warning: ${String(w)}\n`);
          bar?.increment();
        }
      } finally {
        bar?.stop();
      }
    });
}
