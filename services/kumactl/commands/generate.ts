import type { Command } from 'commander';
import { newSigningKeySecretData } from '../../../libs/tokens/signing-keys.ts';
import { contextOf, writeOut } from '../context.ts';
import { keyValuePairs } from '../flags.ts';

/** `--tag k=v` (repeatable, or comma-separated) as Kuma's `{tag: [values]}`. */
function tagsOf(list: readonly string[]): Record<string, string[]> {
  const tags: Record<string, string[]> = {};
  for (const [k, v] of keyValuePairs('--tag', list)) (tags[k] ??= []).push(v);
  return tags;
}

export function registerGenerate(program: Command): void {
  const generate = program.command('generate').description('Generate resources, tokens, etc');

  generate
    .command('dataplane-token')
    .description('Generate a dataplane token (POST /tokens/dataplane)')
    .option('--name <name>', 'name of the Dataplane (empty: any Dataplane of the mesh)')
    .option('-m, --mesh <mesh>', 'mesh', 'default')
    .option('--tag <key=value...>', 'tags the Dataplane must have, e.g. kuma.io/service=web')
    .option('--valid-for <duration>', 'how long the token is valid, e.g. 24h (default: 1 year)')
    .action(async (opts: { name?: string; mesh: string; tag?: string[]; validFor?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = { ...(opts.name ? { name: opts.name } : {}), mesh: opts.mesh, ...(opts.tag ? { tags: tagsOf(opts.tag) } : {}), ...(opts.validFor ? { validFor: opts.validFor } : {}) };
      writeOut(await ctx.client.text('POST', '/tokens/dataplane', body));
    });

  generate
    .command('signing-key')
    .description('Generate a token signing key: the data of a GlobalSecret dataplane-token-signing-key-<N+1> (rotation: apply it, then delete key N)')
    .action(() => writeOut(newSigningKeySecretData()));

  generate
    .command('user-token')
    .description('Generate a user token (POST /tokens/user)')
    .requiredOption('--name <name>', 'name of the user')
    .option('--group <group...>', 'groups of the user')
    .option('--valid-for <duration>', 'how long the token is valid, e.g. 24h (default: 1 year)')
    .action(async (opts: { name: string; group?: string[]; validFor?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = { name: opts.name, groups: (opts.group ?? []).flatMap((g) => g.split(',')).filter((g) => g !== ''), ...(opts.validFor ? { validFor: opts.validFor } : {}) };
      writeOut(await ctx.client.text('POST', '/tokens/user', body));
    });
}
