import type { Command } from 'commander';
import { Option } from 'commander';
import { POLICY_TYPES } from '../../../libs/policies/register.ts';
import { DataplaneType, dataplaneTags } from '../../../libs/resources/dataplane.ts';
import type { JsonObject } from '../../../libs/resources/validation.ts';
import { contextOf } from '../context.ts';
import { age, renderTable } from '../table.ts';
import { output } from './get.ts';

/** One xDS subscription of a proxy, as the control plane reports it (Kuma's DiscoverySubscription). */
interface Subscription {
  connectTime?: string;
  disconnectTime?: string;
  status?: { lastUpdateTime?: string; total?: { responsesSent?: string | number; responsesRejected?: string | number } };
  version?: { kumaDp?: { version?: string }; envoy?: { version?: string } };
}

interface Overview extends JsonObject {
  mesh: string;
  name: string;
  dataplane: JsonObject;
  dataplaneInsight?: { subscriptions?: Subscription[]; mTLS?: { certificateExpirationTime?: string; lastCertificateRegeneration?: string; certificateRegenerations?: number } };
}

const HEADERS = [
  'MESH', 'NAME', 'TAGS', 'STATUS', 'LAST CONNECTED AGO', 'LAST UPDATED AGO', 'TOTAL UPDATES', 'TOTAL ERRORS',
  'CERT REGENERATED AGO', 'CERT EXPIRATION', 'CERT REGENERATIONS', 'KUMA-DP VERSION', 'ENVOY VERSION',
];

/** Online when the newest subscription has no disconnect time; `unknown` when the control plane reports no insight. */
function row(o: Overview, now: Date): string[] {
  const insight = o.dataplaneInsight;
  const subs = insight?.subscriptions ?? [];
  const last = subs[subs.length - 1];
  const status = !insight ? 'unknown' : last && !last.disconnectTime ? 'Online' : 'Offline';
  const sum = (f: 'responsesSent' | 'responsesRejected') => subs.reduce((n, s) => n + Number(s.status?.total?.[f] ?? 0), 0);
  const tags = dataplaneTags({ meta: { type: 'Dataplane', name: o.name, labels: {}, creationTime: '', modificationTime: '', version: 0 }, spec: o.dataplane });
  return [
    o.mesh,
    o.name,
    tags,
    status,
    age(last?.connectTime, now),
    age(last?.status?.lastUpdateTime, now),
    String(sum('responsesSent')),
    String(sum('responsesRejected')),
    age(insight?.mTLS?.lastCertificateRegeneration, now),
    insight?.mTLS?.certificateExpirationTime ?? '-',
    String(insight?.mTLS?.certificateRegenerations ?? 0),
    last?.version?.kumaDp?.version ?? '-',
    last?.version?.envoy?.version ?? '-',
  ];
}

export function registerInspect(program: Command): void {
  const inspect = program.command('inspect').description('Inspect Kuma resources');
  inspect
    .command(DataplaneType.kumactlArg)
    .description('Inspect one Dataplane: the policies that apply to it, its rules, or its xDS configuration')
    .argument('<name>', 'name of the Dataplane')
    .option('-m, --mesh <mesh>', 'mesh of the Dataplane', 'default')
    .addOption(new Option('--type <type>', 'inspection type').choices(['policies', 'rules', 'config']).default('policies'))
    .option('--at <point>', 'as of a log position or RFC 3339 time (from the log, beyond Kuma)')
    .addOption(new Option('-o, --output <format>', 'output format of --type policies').choices(['table', 'yaml', 'json']).default('table'))
    .action(async (name: string, opts: { mesh: string; type: string; at?: string; output: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const base = `/meshes/${encodeURIComponent(opts.mesh)}/dataplanes/${encodeURIComponent(name)}`;
      const at = opts.at !== undefined ? `?at=${encodeURIComponent(opts.at)}` : '';
      if (opts.type === 'policies') {
        const answer = await ctx.client.request<{ policies: { kind: string; origins: { kri: string }[] }[] }>('GET', `${base}/_policies${at}`);
        if (opts.output !== 'table') return output(opts.output, answer);
        process.stdout.write(renderTable(['Kind', 'Origins'], answer.policies.map((p) => [p.kind, p.origins.map((o) => o.kri).join(',')])));
        return;
      }
      output('json', await ctx.client.request('GET', `${base}/${opts.type === 'rules' ? '_rules' : '_config'}${at}`));
    });
  // `kumactl inspect <policy-type> <name>`: the data plane proxies a policy selects (Kuma's table).
  for (const d of POLICY_TYPES) {
    inspect
      .command(d.kumactlArg)
      .description(`Inspect ${d.name}: the data plane proxies it selects`)
      .argument('<name>', `name of the ${d.name}`)
      .option('-m, --mesh <mesh>', 'mesh of the policy', 'default')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'yaml', 'json']).default('table'))
      .action(async (name: string, opts: { mesh: string; output: string }, cmd: Command) => {
        const ctx = contextOf(cmd);
        const page = await ctx.client.request<{ total: number; items: { type: string; mesh: string; name: string }[] }>(
          'GET',
          `/meshes/${encodeURIComponent(opts.mesh)}/${d.plural}/${encodeURIComponent(name)}/_resources/dataplanes?size=1000`,
        );
        if (opts.output !== 'table') return output(opts.output, page);
        process.stdout.write(renderTable(['Type', 'Mesh', 'Name'], page.items.map((i) => [i.type, i.mesh, i.name])) + `\nTotal: ${page.total}\n`);
      });
  }
  inspect
    .command(DataplaneType.kumactlListArg)
    .description('Inspect Dataplanes')
    .option('-m, --mesh <mesh>', 'mesh to inspect', 'default')
    .option('--tag <key=value...>', 'filter by inbound tag (repeatable)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'yaml', 'json']).default('table'))
    .action(async (opts: { mesh: string; tag?: string[]; output: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const query = new URLSearchParams({ size: '1000' });
      for (const t of opts.tag ?? []) query.append('tag', t.replace('=', ':'));
      const list = await ctx.client.request<{ items: Overview[] }>('GET', `/meshes/${encodeURIComponent(opts.mesh)}/dataplanes+insights?${query.toString()}`);
      if (opts.output !== 'table') return output(opts.output, list);
      const now = new Date();
      process.stdout.write(renderTable(HEADERS, list.items.map((o) => row(o, now))));
    });
}
