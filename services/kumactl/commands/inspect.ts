import type { Command } from 'commander';
import { Option } from 'commander';
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
    .description('Inspect one Dataplane')
    .argument('<name>', 'name of the Dataplane')
    .option('-m, --mesh <mesh>', 'mesh of the Dataplane', 'default')
    .addOption(new Option('--type <type>', 'what to show').choices(['config']).default('config'))
    .action(async (name: string, opts: { mesh: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const config = await ctx.client.request('GET', `/meshes/${encodeURIComponent(opts.mesh)}/dataplanes/${encodeURIComponent(name)}/_config`);
      output('json', config);
    });
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
