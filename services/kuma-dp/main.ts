import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat } from '../../libs/platform/log-options.ts';
import { createLogger } from '../../libs/platform/logger.ts';
import { GRPC_CERTIFICATE_PROVIDER } from '../../libs/xds/generate/tls.ts';
import { PROXYLESS_SERVER_TEMPLATE } from '../../libs/xds/names.ts';
import { parseDuration } from '../../libs/platform/duration.ts';
import { KUMA_VERSION } from '../../libs/platform/version.ts';
import { BootstrapError, fetchBootstrap } from './bootstrap-client.ts';
import { FILE_WATCHER_REFRESH_MS, WorkloadIdentity } from './identity.ts';
import { startRelay } from './relay.ts';
import { sdsCluster, startSdsServer } from './sds.ts';
import { supervise } from './supervisor.ts';
import { decodeYaml } from '../../libs/resources/decode.ts';
import { PROXYLESS_LABEL } from '../../libs/resources/dataplane-model.ts';

const program = new Command('kuma-dp').description('Dataplane manager for Envoy-based service mesh');

program
  .command('version')
  .description('Print version')
  .action(() => {
    process.stdout.write(`Kuma: ${KUMA_VERSION}\n`);
  });

interface RunOptions {
  cpAddress: string;
  name?: string;
  mesh?: string;
  dataplaneFile?: string;
  dataplane?: string;
  dataplaneTokenFile?: string;
  dataplaneToken?: string;
  caCertFile?: string;
  caCert?: string;
  binaryPath: string;
  adminPort: number;
  proxyless?: boolean;
  grpcBootstrapFile?: string;
  xdsRelayPort: number;
  trustRefreshInterval: number;
  maxRestarts: number;
  drainTimeout: number;
  logLevel: string;
  logFormat: LogFormat;
}

/** Seconds, as a number or a duration as the control plane takes them (`30s`, `500ms`, `1m30s`: what KUMA_DATAPLANE_DRAIN_TIME holds). */
const seconds = (what: string) => (v: string) => {
  if (/^\d+$/.test(v)) return Number(v);
  try {
    return parseDuration(v);
  } catch (err) {
    throw new InvalidArgumentError(`${what} must be seconds or a duration such as 30s: ${(err as Error).message}`);
  }
};

const int = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${what} must be an integer between 0 and 65535`);
  return n;
};

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`could not read ${what} ${path}: ${(err as Error).message}`);
  }
}

program
  .command('run')
  .description('Launch Dataplane (Envoy), or the proxyless gRPC agent with --proxyless')
  .addOption(new Option('--cp-address <url>', 'URL of the control plane data plane server, e.g. https://kuma-cp:5678').env('KUMA_CONTROL_PLANE_URL').makeOptionMandatory())
  .addOption(new Option('--name <name>', 'name of the Dataplane (on Kubernetes: <POD_NAME>.<POD_NAMESPACE>)').env('KUMA_DATAPLANE_NAME'))
  .addOption(new Option('--mesh <mesh>', 'mesh of the Dataplane').env('KUMA_DATAPLANE_MESH'))
  .option('-d, --dataplane-file <path>', 'Dataplane to register (YAML or JSON); removed again shortly after the proxy disconnects')
  .option('--dataplane <yaml>', 'Dataplane to register, inline')
  .addOption(new Option('--dataplane-token-file <path>', 'file with the dataplane token (on Kubernetes: the service account token)').env('KUMA_DATAPLANE_RUNTIME_TOKEN_PATH'))
  .option('--dataplane-token <token>', 'the dataplane token')
  .addOption(new Option('--ca-cert-file <path>', 'CA that signs the control plane certificate').env('KUMA_CONTROL_PLANE_CA_CERT_FILE'))
  .addOption(new Option('--ca-cert <pem>', 'the CA itself, PEM (as the sidecar injector passes it)').env('KUMA_CONTROL_PLANE_CA_CERT'))
  .option('--binary-path <path>', 'Envoy binary', 'envoy')
  .addOption(new Option('--admin-port <port>', 'Envoy admin port').default(9901).argParser(int('--admin-port')))
  .option('--proxyless', 'no Envoy: run a local xDS relay for a gRPC application (GRPC_XDS_BOOTSTRAP)')
  .option('--grpc-bootstrap-file <path>', 'where to write the gRPC xDS bootstrap (proxyless)')
  .addOption(new Option('--xds-relay-port <port>', 'local relay port (proxyless; 0 = any)').default(0).argParser(int('--xds-relay-port')))
  .addOption(
    new Option('--trust-refresh-interval <seconds>', "how often to ask what the mesh trusts (a CA rotation reaches this proxy within it); 0 = never")
      .default(30)
      .env('KUMA_DATAPLANE_TRUST_REFRESH_INTERVAL')
      .argParser(int('--trust-refresh-interval')),
  )
  .addOption(new Option('--max-restarts <n>', 'restarts of Envoy (or the application) after a crash').default(3).argParser(int('--max-restarts')))
  .addOption(new Option('--drain-timeout <duration>', 'after SIGTERM, how long before the child is killed (seconds, or 30s, 2m)').default(30).env('KUMA_DATAPLANE_DRAIN_TIME').argParser(seconds('--drain-timeout')))
  .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info').env('KUMA_LOG_LEVEL'))
  .addOption(new Option('--log-format <format>', 'log format: text on a terminal and JSON lines otherwise unless set').choices(LOG_FORMATS).default('auto').env('KUMA_LOG_FORMAT'))
  .argument('[command...]', 'proxyless: the application to run with GRPC_XDS_BOOTSTRAP set (after --)')
  .action(async (command: string[], opts: RunOptions) => {
    const logger = createLogger({ level: opts.logLevel, format: opts.logFormat });
    try {
      let resource: Record<string, unknown> | undefined;
      const raw = opts.dataplaneFile ? readText(opts.dataplaneFile, 'dataplane file') : opts.dataplane;
      if (raw !== undefined) {
        try {
          resource = decodeYaml(raw) as Record<string, unknown>;
        } catch (err) {
          throw new Error(`dataplane file is not valid YAML or JSON: ${(err as Error).message}`);
        }
        if (!resource || typeof resource !== 'object') throw new Error('dataplane file must hold one Dataplane object');
      }
      // On Kubernetes the injector gives the Pod's name and namespace; the Dataplane is named after both, as Kuma's core name.
      const podName = process.env['POD_NAME'] && process.env['POD_NAMESPACE'] ? `${process.env['POD_NAME']}.${process.env['POD_NAMESPACE']}` : undefined;
      const name = opts.name ?? (resource?.['name'] as string | undefined) ?? podName;
      const mesh = opts.mesh ?? (resource?.['mesh'] as string | undefined) ?? 'default';
      if (!name) throw new Error('--name is required (or a --dataplane-file with a name)');
      if (resource && (resource['name'] !== name || (resource['mesh'] ?? 'default') !== mesh)) {
        throw new Error(`--name/--mesh (${mesh}.${name}) disagree with the dataplane file (${String(resource['mesh'])}.${String(resource['name'])})`);
      }
      const token = opts.dataplaneTokenFile ? readText(opts.dataplaneTokenFile, 'dataplane token file').trim() : opts.dataplaneToken;
      const caCert = opts.caCertFile ? readText(opts.caCertFile, 'CA certificate file') : opts.caCert?.trim() ? opts.caCert : undefined;
      // A proxyless application is labelled so: the control plane then speaks gRPC's shapes to it (mTLS through certificate providers).
      const labels = opts.proxyless ? { ...(resource?.['labels'] as Record<string, string> | undefined), [PROXYLESS_LABEL]: 'true' } : resource?.['labels'];
      const dataplaneResource = resource ? JSON.stringify({ mesh, ...resource, ...(labels ? { labels } : {}) }) : undefined;

      if (opts.proxyless) process.exitCode = await runProxyless({ opts, command, name, mesh, token, caCert, dataplaneResource, logger });
      else process.exitCode = await runEnvoy({ opts, command, name, mesh, token, caCert, dataplaneResource, logger });
    } catch (err) {
      logger.error({ component: 'kuma-dp', err: (err as Error).message }, 'kuma-dp run failed');
      process.stderr.write(`Error: ${(err as Error).message}\n`);
      process.exitCode = err instanceof BootstrapError ? 2 : 1;
    }
    // Exit deliberately once the child and the relay are done: lingering gRPC handles must not
    // keep a stopped data plane alive.
    logger.flush();
    setTimeout(() => process.exit(process.exitCode ?? 0), 50);
  });

interface RunContext {
  opts: RunOptions;
  command: string[];
  name: string;
  mesh: string;
  token: string | undefined;
  caCert: string | undefined;
  dataplaneResource: string | undefined;
  logger: ReturnType<typeof createLogger>;
}

/** The proxy's workload identity: files in `dir` (proxyless), or in memory only (Envoy, over SDS). */
function workloadIdentity(a: RunContext, dir?: string): WorkloadIdentity {
  return new WorkloadIdentity({
    cpAddress: a.opts.cpAddress,
    ...(a.caCert ? { caCert: a.caCert } : {}),
    mesh: a.mesh,
    name: a.name,
    ...(a.token ? { token: a.token } : {}),
    ...(a.dataplaneResource ? { dataplaneResource: a.dataplaneResource } : {}),
    ...(dir ? { dir } : {}),
    trustRefreshMs: a.opts.trustRefreshInterval * 1000,
    logger: a.logger,
  });
}

/** Envoy mode: fetch the bootstrap, write it, and supervise Envoy. */
async function runEnvoy(a: RunContext): Promise<number> {
  const { opts, command, name, mesh, token, caCert, dataplaneResource, logger } = a;
  const { bootstrap } = await fetchBootstrap({
    cpAddress: opts.cpAddress,
    mesh,
    name,
    adminPort: opts.adminPort,
    ...(token ? { token } : {}),
    ...(caCert ? { caCert } : {}),
    ...(dataplaneResource ? { dataplaneResource } : {}),
  });
  const dir = mkdtempSync(join(tmpdir(), 'kuma-dp-'));
  // The workload identity stays in memory and reaches Envoy over the local SDS socket.
  const identity = workloadIdentity(a);
  await identity.start();
  const socketPath = join(dir, 'sds.sock');
  const sds = await startSdsServer({ socketPath, mesh, identity, logger });
  const statics = ((bootstrap['static_resources'] ??= {}) as { clusters?: unknown[] });
  statics.clusters = [...(statics.clusters ?? []), sdsCluster(socketPath)];
  const file = join(dir, 'bootstrap.json');
  writeFileSync(file, JSON.stringify(bootstrap, null, 2), { mode: 0o600 });
  logger.info({ component: 'kuma-dp', file }, 'wrote Envoy bootstrap');
  try {
    return await supervise({
      command: opts.binaryPath,
      args: ['-c', file, '--drain-time-s', '30', '--disable-hot-restart', ...command],
      maxRestarts: opts.maxRestarts,
      drainTimeoutMs: opts.drainTimeout * 1000,
      logger,
      name: 'envoy',
    });
  } finally {
    identity.stop();
    await sds.close();
  }
}

/** Proxyless mode: the loopback relay, the gRPC bootstrap, and optionally the application. */
async function runProxyless(a: RunContext): Promise<number> {
  const url = new URL(a.opts.cpAddress);
  if (url.protocol !== 'https:') throw new Error(`--cp-address must be https://, got ${a.opts.cpAddress}`);
  const relay = await startRelay({
    upstream: url.host,
    ...(a.caCert ? { caCert: a.caCert } : {}),
    ...(a.token ? { token: a.token } : {}),
    nodeMetadata: {
      ...(a.dataplaneResource ? { 'dataplane.resource': a.dataplaneResource } : {}),
      version: { kumaDp: { version: KUMA_VERSION } },
    },
    port: a.opts.xdsRelayPort,
    logger: a.logger,
  });
  const workDir = mkdtempSync(join(tmpdir(), 'kuma-dp-'));
  const file = a.opts.grpcBootstrapFile ?? join(workDir, 'grpc-bootstrap.json');
  // The workload identity: made here, signed by the control plane, read by grpc's file_watcher.
  // Always offered in the bootstrap (grpc reads it once), used when the mesh has mTLS.
  const identity = workloadIdentity(a, join(workDir, 'identity'));
  await identity.start();
  writeFileSync(
    file,
    JSON.stringify(
      {
        xds_servers: [{ server_uri: `127.0.0.1:${relay.port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
        node: { id: `${a.mesh}.${a.name}`, locality: {} },
        server_listener_resource_name_template: PROXYLESS_SERVER_TEMPLATE,
        certificate_providers: {
          [GRPC_CERTIFICATE_PROVIDER]: {
            plugin_name: 'file_watcher',
            config: {
              certificate_file: identity.files!.certificateFile,
              private_key_file: identity.files!.privateKeyFile,
              ca_certificate_file: identity.files!.caCertificateFile,
              refresh_interval: `${FILE_WATCHER_REFRESH_MS / 1000}s`,
            },
          },
        },
      },
      null,
      2,
    ),
  );
  a.logger.info({ component: 'kuma-dp', file }, 'wrote gRPC xDS bootstrap (GRPC_XDS_BOOTSTRAP)');
  let code = 0;
  if (a.command.length > 0) {
    code = await supervise({
      command: a.command[0]!,
      args: a.command.slice(1),
      // RBAC on: a MeshTrafficPermission must be enforced, not ignored (grpc-js-xds runs it only with this set).
      env: { GRPC_XDS_EXPERIMENTAL_RBAC: 'true', ...process.env, GRPC_XDS_BOOTSTRAP: file },
      maxRestarts: a.opts.maxRestarts,
      drainTimeoutMs: a.opts.drainTimeout * 1000,
      logger: a.logger,
      name: 'application',
    });
  } else {
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    a.logger.info({ component: 'kuma-dp', signal }, 'stopping the proxyless relay');
  }
  identity.stop();
  await relay.close();
  return code;
}

await program.parseAsync(process.argv);
