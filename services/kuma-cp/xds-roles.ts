import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { StoredEvent } from '../../libs/event-log/event.ts';
import type { KumaCpConfig, Role } from '../../libs/platform/config.ts';
import { parseDuration } from '../../libs/platform/duration.ts';
import type { Lifecycle } from '../../libs/platform/lifecycle.ts';
import type { Metrics } from '../../libs/platform/metrics.ts';
import type { CurrentState } from '../../libs/projection/current-state.ts';
import type { LiveProjection } from '../../libs/projection/live-projection.ts';
import type { TypeRegistry } from '../../libs/resources/registry.ts';
import { ContentGc } from '../../libs/snapshot-store/content-gc.ts';
import { ContentStore } from '../../libs/snapshot-store/content-store.ts';
import { policyPlugins } from '../../libs/policies/plugins.ts';
import { MESH_IDENTITY, MESH_TRUST } from '../../libs/ca/mesh-identity.ts';
import { ReachableServices } from '../../libs/policies/meshtrafficpermission/index.ts';
import { ManifestStore, slotOfRef, type Manifest } from '../../libs/snapshot-store/manifest.ts';
import { NatsSnapshotSource } from '../../libs/snapshot-store/nats-source.ts';
import { DemandBoard } from '../../libs/snapshot-store/demands.ts';
import { RegistrationBoard } from '../../libs/snapshot-store/registrations.ts';
import { StatusBoard } from '../../libs/snapshot-store/status-board.ts';
import type { DataplaneTokens } from '../../libs/tokens/signing-keys.ts';
import { configJson } from '../../libs/inspect/config-json.ts';
import { decodeToObject } from '../../libs/xds/resource.ts';
import { SnapshotCache, type SnapshotSource } from '../../libs/xds/snapshot-cache.ts';
import type { ResourceService } from '../api-server/resource-service.ts';
import { SnapshotGenerator, type GeneratorOptions } from '../projector/generator.ts';
import { Membership } from '../../libs/snapshot-store/membership.ts';
import { ManifestPublisher } from '../projector/publisher.ts';
import { noAuthentication, TokenAuthenticator } from '../xds-gateway/authn.ts';
import { ByNameBudget } from '../xds-gateway/by-name-budget.ts';
import { WorkloadIssuer } from '../../libs/ca/issuer.ts';
import { SignPool } from '../../libs/ca/sign-pool.ts';
import { REVOCATIONS_SECRET, Revocations } from '../../libs/tokens/revocations.ts';
import { secretData } from '../../libs/resources/secret.ts';
import { startGateway } from '../xds-gateway/gateway.ts';
import { XdsMetrics } from '../../libs/xds/metrics.ts';
import { OrphanedDemands } from '../xds-gateway/orphaned-demands.ts';
import { OrphanedRegistrations } from '../xds-gateway/orphans.ts';
import { dataplaneFromNode, DataplaneLifecycle } from '../xds-gateway/registration.ts';
import type { ProxyId } from '../xds-gateway/proxy-id.ts';
import { RegistrationError } from '../xds-gateway/stream.ts';
import { StreamStatusRegistry } from '../xds-gateway/status.ts';
import { loadOrCreateTls } from '../xds-gateway/tls.ts';

/** How often a projector also looks for manifests of deleted Dataplanes in its share (besides membership changes). */
const ORPHAN_SWEEP_MS = 60_000;
/** Responses awaiting ACKs above which a gateway counts as pushing configuration (a few stuck proxies do not count). */
const PUSHING_THRESHOLD = 64;

export interface XdsRolesContext {
  readonly config: KumaCpConfig;
  readonly roles: readonly Role[];
  readonly instanceId: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly lifecycle: Lifecycle;
  readonly registry: TypeRegistry;
  readonly projection: LiveProjection;
  readonly service: ResourceService;
  readonly tokens: DataplaneTokens;
  /** Called after each event the projection applies. */
  readonly followers: ((e: StoredEvent, state: CurrentState) => void)[];
  /**
   * The NATS connection of the fabric when `fabric.type` is nats (whatever the log): the roles
   * then talk only through NATS, so they can run in separate processes.
   */
  readonly nats?: NatsConnection;
}

export interface XdsRoles {
  readonly ports: { dpServer: number; dpServerPlaintext: number };
  /** A proxy's connection status (DataplaneInsight), for the API. */
  insightOf?(mesh: string, name: string): Record<string, unknown> | undefined;
  /** A proxy's computed configuration (`_config`), for the API. */
  configOf?(mesh: string, name: string): Promise<Record<string, Record<string, unknown>> | undefined>;
}

async function configFromManifest(proxy: string, m: Manifest, content: ContentStore, manifests: ManifestStore): Promise<Record<string, Record<string, unknown>>> {
  const mesh = proxy.slice(0, proxy.indexOf('.'));
  const out: Record<string, Record<string, unknown>> = {};
  for (const refs of [m.resources, m.namedOnly]) {
    for (const [typeUrl, byName] of Object.entries(refs)) {
      const into = (out[typeUrl] ??= {});
      for (const [name, ref] of Object.entries(byName)) {
        const slot = slotOfRef(name, ref);
        const hash = slot !== undefined ? (await manifests.readPointer(mesh, slot))?.hash : ref;
        if (hash) into[name] = decodeToObject(typeUrl, await content.get(hash));
      }
    }
  }
  return out;
}

/**
 * Starts the projector and gateway roles this process runs. On the memory and embedded stores
 * both run here and talk in memory (SnapshotCache). On NATS every role talks only through NATS:
 * projectors share the proxies by rendezvous hashing over live members and publish content and
 * manifests; gateways follow the manifests of their proxies; status goes through a KV bucket.
 */
export async function startXdsRoles(ctx: XdsRolesContext): Promise<XdsRoles> {
  const { config, roles, logger, lifecycle, projection, nats } = ctx;
  const projector = roles.includes('projector');
  const gateway = roles.includes('gateway');
  const api = roles.includes('api');
  if (!nats && projector !== gateway) {
    throw new Error('the projector and gateway roles can run in separate processes only over a NATS fabric (KUMA_FABRIC_TYPE=nats; the default with store.type nats): run both, or use the NATS fabric');
  }
  const result: { ports: XdsRoles['ports'] } & Omit<XdsRoles, 'ports'> = { ports: { dpServer: 0, dpServerPlaintext: 0 } };
  if (!projector && !gateway && !nats) return result;
  const xdsMetrics = new XdsMetrics(ctx.metrics.registry);
  const debounceMs = parseDuration(config.xdsServer.debounce) * 1000;
  const generatorOptions: GeneratorOptions = {
    debounceMs,
    plugins: policyPlugins(),
    policyTypes: ctx.registry.policyTypeNames(),
    ...(config.experimental.autoReachableServices ? { outboundTrim: new ReachableServices() } : {}),
  };
  const replicas = config.store.nats.replicas;
  const bucket = (what: string) => `${config.store.nats.stream}_XDS_${what}`;

  let content: ContentStore | undefined;
  let manifests: ManifestStore | undefined;
  let board: StatusBoard | undefined;
  if (nats) {
    // A writer renews content it refers to after a quarter of the collector's grace period (see ContentGc).
    content = await ContentStore.open(nats, bucket('CONTENT'), { replicas, rewriteAfterMs: (parseDuration(config.store.nats.contentGcGrace) * 1000) / 4 });
    manifests = await ManifestStore.open(nats, bucket('MANIFESTS'), content, { replicas });
    board = await StatusBoard.open(nats, bucket('STATUS'), logger, {
      replicas,
      flushMs: parseDuration(config.xdsServer.dataplaneStatusFlushInterval) * 1000,
      // Status yields to configuration: a slice of status writes waits while many pushes await their ACKs.
      deferWhile: () => xdsMetrics.awaitingAck > PUSHING_THRESHOLD,
    });
    // API servers answer inspect from a mirror; a gateway reads a proxy's status only when it needs it.
    if (api) await board.startMirror();
    const b = board;
    lifecycle.onShutdown('status board', () => b.close());
  }

  let source: SnapshotSource | undefined;
  let generator: SnapshotGenerator | undefined;
  if (projector) {
    if (nats) {
      const memberId = ctx.instanceId.replace(/[^A-Za-z0-9_-]/g, '-');
      const membership = new Membership(nats, memberId, { subject: `kuma.cluster.${config.store.nats.stream}.projectors` }, logger);
      const publisher = new ManifestPublisher(content!, manifests!, membership, () => projection.state.position, xdsMetrics, logger);
      const gen = new SnapshotGenerator(publisher, xdsMetrics, logger, generatorOptions);
      generator = gen;
      gen.load(projection.state);
      ctx.followers.push((e, state) => gen.onEvent(e, e.op === 'upsert' ? state.get(e) : undefined));
      lifecycle.onShutdown('projector membership', () => membership.stop());
      await membership.start();
      // A moved share is generated at once; new Dataplanes reach their owner through onEvent.
      // Manifests of Dataplanes deleted while their owner was dying get their deletion here: on
      // every membership change, then every ORPHAN_SWEEP_MS as a safety net (soon again after a
      // sweep that failed, e.g. while NATS was down).
      let sweepTimer: NodeJS.Timeout | undefined;
      let sweeping = true;
      const sweepIn = (ms: number) => {
        clearTimeout(sweepTimer);
        if (!sweeping) return;
        sweepTimer = setTimeout(sweep, ms);
        sweepTimer.unref();
      };
      const sweep = (): void => {
        Promise.all([publisher.sweepOrphans((key) => gen.exists(key)), publisher.sweepServiceOrphans((mesh, svc) => gen.serviceExists(mesh, svc))]).then(
          ([n, services]) => {
            if (n > 0) logger.info({ component: 'projector', deleted: n }, 'published deletions for manifests whose Dataplane is gone');
            if (services > 0) logger.info({ component: 'projector', deleted: services }, 'published deletions for by-name resources of services that are gone');
            sweepIn(ORPHAN_SWEEP_MS);
          },
          (err: Error) => {
            logger.warn({ component: 'projector', err: err.message }, 'cannot sweep manifests of deleted Dataplanes; trying again in 5s');
            sweepIn(5000);
          },
        );
      };
      membership.onChange(() => {
        gen.regenerate(publisher.reshare(gen.proxyKeys()));
        gen.regenerateServices(publisher.reshareServices(gen.serviceKeys()));
        sweep();
      });
      gen.regenerate(publisher.reshare(gen.proxyKeys()));
      gen.regenerateServices(publisher.reshareServices(gen.serviceKeys()));
      sweep();
      // By-name resources of a service are built when the first gateway asks for it (proxyless
      // clients dialling it by name), not for every service of every mesh.
      const stopDemand = await manifests!.watchDemand(
        (key, demanded) => {
          const svc = manifests!.parseServiceKey(key);
          if (publisher.setDemand(key, demanded) && svc) gen.onServiceWatch(svc.mesh, svc.service);
        },
        (err) => logger.warn({ component: 'projector', err: err.message }, 'stopped following the demands for by-name resources'),
      );
      lifecycle.onShutdown('by-name demands', async () => stopDemand());
      const stopGc = await startContentGc(nats, content!, manifests!, membership, config, xdsMetrics, logger);
      lifecycle.onShutdown('snapshot publisher', async () => {
        sweeping = false;
        clearTimeout(sweepTimer);
        stopGc();
        gen.stop();
        // Publish what is pending, but do not wait on retries forever (NATS may be gone).
        await Promise.race([publisher.idle(), new Promise((r) => setTimeout(r, 5000))]);
        publisher.stop();
        await publisher.idle();
      });
      logger.info({ component: 'projector', member: memberId, members: membership.members }, 'projector started: publishing its share over NATS');
    } else {
      const cache = new SnapshotCache({ onFirstWatch: (key) => generator!.onWatch(key), onFirstServiceWatch: (mesh, svc) => generator!.onServiceWatch(mesh, svc) });
      const gen = new SnapshotGenerator(cache, xdsMetrics, logger, generatorOptions);
      generator = gen;
      source = cache;
      gen.load(projection.state);
      ctx.followers.push((e, state) => gen.onEvent(e, e.op === 'upsert' ? state.get(e) : undefined));
      lifecycle.onShutdown('snapshot generator', async () => gen.stop());
    }
  }

  if (nats) {
    const c = content!;
    const m = manifests!;
    result.configOf = async (mesh, name) => {
      const stored = await m.read(`${mesh}.${name}`);
      return stored && !stored.manifest.deleted ? configFromManifest(`${mesh}.${name}`, stored.manifest, c, m) : undefined;
    };
    result.insightOf = (mesh, name) => board!.get(`${mesh}.${name}`);
  } else if (generator) {
    const gen = generator;
    result.configOf = async (mesh, name) => {
      const s = gen.generate(`${mesh}.${name}`);
      return s ? configJson(s) : undefined;
    };
  }

  if (gateway) {
    let natsSource: NatsSnapshotSource | undefined;
    if (nats) {
      natsSource = new NatsSnapshotSource(
        nats,
        manifests!,
        content!,
        logger,
        {
          onContent: (outcome) => xdsMetrics.contentLookups.inc({ outcome }),
          onStaleManifest: () => xdsMetrics.staleManifests.inc(),
        },
        { demandAs: memberIdOf(ctx.instanceId) },
      );
      const ns = natsSource;
      source = ns;
      const timer = setInterval(() => xdsMetrics.contentCacheBytes.set(ns.cacheBytes), 5000);
      timer.unref();
      lifecycle.onShutdown('snapshot source', async () => {
        clearInterval(timer);
        ns.close();
      });
    }
    const status = new StreamStatusRegistry();
    if (board) {
      const b = board;
      const insight = (key: string) => status.insight(key);
      status.onChange((key, urgent) => b.changed(key, insight, urgent));
    } else {
      result.insightOf = (mesh, name) => status.insight(`${mesh}.${name}`);
    }
    /** Connected to any gateway of the cluster (a proxy that moved must not be deregistered by the old one). */
    const connectedAnywhere = async (key: string): Promise<boolean> => {
      if (status.connected(key)) return true;
      const subs = ((await board?.read(key))?.['subscriptions'] ?? []) as { disconnectTime?: string; controlPlaneInstanceId?: string }[];
      return subs.some((s) => !s.disconnectTime && s.controlPlaneInstanceId !== ctx.instanceId);
    };
    const deregistrationDelayMs = parseDuration(config.xdsServer.dataplaneDeregistrationDelay) * 1000;
    const orphans = nats ? await startOrphanSweep(ctx, nats, bucket('REGISTRATIONS'), status, board!, deregistrationDelayMs) : undefined;
    if (orphans && natsSource) await startDemandSweep(ctx, manifests!, natsSource, orphans.membership, deregistrationDelayMs);
    const tls = await loadOrCreateTls({ certFile: config.general.tlsCertFile, keyFile: config.general.tlsKeyFile, workDir: config.general.workDir, logger });
    const noAuth = config.dpServer.authn.dpProxy.type === 'none';
    if (noAuth) logger.warn({ component: 'dp-server' }, 'dataplane authentication is OFF (dpServer.authn.dpProxy.type=none): serving on loopback only');
    const storedDataplane = (proxy: ProxyId) => projection.state.get({ type: 'Dataplane', mesh: proxy.mesh, name: proxy.name })?.spec;
    const storedLabels = (proxy: ProxyId) => projection.state.get({ type: 'Dataplane', mesh: proxy.mesh, name: proxy.name })?.meta.labels;
    // Kuma's revocation Secret per mesh: refused from then on, and live streams with a revoked token closed.
    const revocations = new Revocations((mesh) => {
      const r = projection.state.get({ type: 'Secret', mesh, name: REVOCATIONS_SECRET(mesh) });
      const data = secretData(r);
      return r && data !== undefined ? { data, version: r.meta.version } : undefined;
    }, 1000, (serial) => ctx.tokens.hasKey(serial));
    lifecycle.onShutdown('token revocations', async () => revocations.stop());
    // Workload certificates are signed on worker threads (all cores but one; at least one worker).
    const signPool = new SignPool();
    lifecycle.onShutdown('certificate signers', () => signPool.close());
    const authenticator = noAuth
      ? noAuthentication
      : new TokenAuthenticator(ctx.tokens, (proxy, node) => (node ? dataplaneFromNode(node, ctx.registry, proxy)?.spec : undefined) ?? storedDataplane(proxy), revocations);
    const registrations = new DataplaneLifecycle(
      {
        upsert: async (input, actor) => {
          if (!projection.state.get({ type: 'Mesh', name: input.mesh ?? '' })) {
            throw new RegistrationError(`cannot register dataplane ${input.mesh}.${input.name}: mesh "${input.mesh}" does not exist`);
          }
          await ctx.service.upsert(ctx.registry.get('Dataplane'), input, actor);
          await orphans?.claim(actor.subject);
        },
        remove: async (proxy, actor) => {
          await ctx.service.delete({ type: 'Dataplane', mesh: proxy.mesh, name: proxy.name }, actor);
          await orphans?.release(actor.subject);
        },
      },
      ctx.registry,
      connectedAnywhere,
      deregistrationDelayMs,
      logger,
    );
    lifecycle.onShutdown('dataplane lifecycle', async () => registrations.stop());
    const gw = await startGateway(
      {
        source: source!,
        status,
        instanceId: ctx.instanceId,
        logger,
        metrics: xdsMetrics,
        authenticate: (proxy, token, node) => authenticator.authenticate(proxy, token, node),
        revocations,
        onConnect: (proxy, node) => registrations.onConnect(proxy, node),
        onDisconnect: (proxy) => registrations.onDisconnect(proxy),
        registry: ctx.registry,
        dataplane: storedDataplane,
        dataplaneLabels: storedLabels,
        issuer: new WorkloadIssuer({
          mesh: (name) => projection.state.get({ type: 'Mesh', name })?.spec,
          secret: (mesh, name) => secretData(projection.state.get({ type: 'Secret', mesh, name })),
          secretNames: (mesh) => projection.state.list('Secret', mesh).map((r) => r.meta.name),
          identities: (mesh) => projection.state.list(MESH_IDENTITY, mesh),
          trusts: (mesh) => projection.state.list(MESH_TRUST, mesh),
          zone: config.multizone.zone.name,
        }, Math.random, signPool),
        byName: new ByNameBudget({ perStream: config.dpServer.maxByNameServicesPerStream, perGateway: config.dpServer.maxByNameServicesPerGateway }),
      },
      {
        tlsPort: config.dpServer.port,
        tlsInterface: noAuth ? '127.0.0.1' : '0.0.0.0',
        plaintextPort: config.dpServer.plaintextPort,
        tls,
        limits: {
          readHeaderTimeoutMs: parseDuration(config.dpServer.readHeaderTimeout) * 1000,
          unauthenticated: {
            perSource: config.dpServer.maxUnauthenticatedConnectionsPerSource,
            timeoutMs: parseDuration(config.dpServer.authenticationTimeout) * 1000,
          },
          onReject: (reason) => xdsMetrics.rejectedConnections.inc({ reason }),
        },
      },
      logger,
    );
    result.ports = { dpServer: gw.tlsPort, dpServerPlaintext: gw.plaintextPort };
    lifecycle.onShutdown('data plane server', () => gw.close());
  }
  return result;
}

/** Sanitised for a NATS subject token: a member id. */
const memberIdOf = (instanceId: string) => instanceId.replace(/[^A-Za-z0-9_-]/g, '-');
/** How often a gateway looks for registrations left by gateways that died (in memory; cheap). */
const ORPHAN_SWEEP_INTERVAL_MS = 500;

/**
 * Gateways' share of registered Dataplanes: each gateway records the Dataplanes it registers
 * (RegistrationBoard) and joins a gateway membership; the survivors of a gateway that died
 * deregister its Dataplanes whose proxies did not reconnect elsewhere within the
 * deregistration delay (OrphanedRegistrations). Returns the claim and release hooks.
 */
async function startOrphanSweep(
  ctx: XdsRolesContext,
  nats: NatsConnection,
  bucket: string,
  status: StreamStatusRegistry,
  board: StatusBoard,
  delayMs: number,
): Promise<{ claim(proxyKey: string): Promise<void>; release(proxyKey: string): Promise<void>; readonly membership: Membership }> {
  const { config, logger, lifecycle, projection } = ctx;
  const self = memberIdOf(ctx.instanceId);
  const registrations = await RegistrationBoard.open(nats, bucket, logger, { replicas: config.store.nats.replicas });
  await registrations.startMirror();
  const membership = new Membership(nats, self, { subject: `kuma.cluster.${config.store.nats.stream}.gateways`, role: 'gateway' }, logger);
  await membership.start();
  const sweeper = new OrphanedRegistrations({
    registrations,
    self,
    members: () => membership.members,
    delayMs,
    logger,
    connected: async (key) => {
      if (status.connected(key)) return true;
      const live = new Set(membership.members);
      const subs = ((await board.read(key))?.['subscriptions'] ?? []) as { disconnectTime?: string; controlPlaneInstanceId?: string }[];
      return subs.some((s) => !s.disconnectTime && live.has(memberIdOf(s.controlPlaneInstanceId ?? '')));
    },
    deregister: async (key) => {
      const dot = key.indexOf('.');
      const ref = { type: 'Dataplane', mesh: key.slice(0, dot), name: key.slice(dot + 1) };
      if (!projection.state.get(ref)) return;
      // At the version looked at: a proxy that re-registered meanwhile (a newer version) stays.
      await ctx.service.delete(ref, { subject: key, source: 'dp-registration' }, projection.state.version(ref));
    },
  });
  const sweep = () => void sweeper.sweep();
  const timer = setInterval(sweep, ORPHAN_SWEEP_INTERVAL_MS);
  timer.unref();
  membership.onChange(sweep);
  lifecycle.onShutdown('gateway membership', async () => {
    clearInterval(timer);
    await membership.stop();
    await registrations.close();
  });
  return { claim: (key) => registrations.claim(key, self), release: (key) => registrations.release(key, self), membership };
}

/**
 * Gateways' sweep of demands for by-name resources nobody holds (OrphanedDemands): a dead
 * gateway's (by the live gateway that owns each key) and this gateway's own that none of its
 * streams follows, each after the deregistration delay; and this gateway writes its own demand
 * again when it disappears while a stream still follows the service.
 */
async function startDemandSweep(ctx: XdsRolesContext, manifests: ManifestStore, source: NatsSnapshotSource, membership: Membership, graceMs: number): Promise<void> {
  const { logger, lifecycle } = ctx;
  const self = memberIdOf(ctx.instanceId);
  const demands = new DemandBoard(manifests, logger);
  await demands.start((_key, record) => {
    if (record.gateway === self) source.reassert(record.serviceKey);
  });
  const sweeper = new OrphanedDemands({ demands, self, members: () => membership.members, wants: (key) => source.demands(key), graceMs, logger });
  const sweep = () => void sweeper.sweep();
  const timer = setInterval(sweep, ORPHAN_SWEEP_INTERVAL_MS);
  timer.unref();
  membership.onChange(sweep);
  lifecycle.onShutdown('by-name demand sweep', async () => {
    clearInterval(timer);
    await demands.close();
  });
}

/**
 * Content collection runs on one projector at a time: the one that owns a fixed key by the
 * same rendezvous hashing that shares the proxies. Two that briefly both think so are safe
 * (each removal is bounded by the revision it saw).
 */
async function startContentGc(
  nc: NatsConnection,
  content: ContentStore,
  manifests: ManifestStore,
  membership: Membership,
  config: KumaCpConfig,
  metrics: XdsMetrics,
  logger: Logger,
): Promise<() => void> {
  const intervalMs = parseDuration(config.store.nats.contentGcInterval) * 1000;
  if (intervalMs === 0) return () => undefined;
  const graceMs = parseDuration(config.store.nats.contentGcGrace) * 1000;
  const gc = await ContentGc.open(nc, content, manifests);
  let running = false;
  const run = async () => {
    if (running || !membership.owns('\u0000content-gc')) return;
    running = true;
    const started = performance.now();
    try {
      const r = await gc.sweep(graceMs);
      metrics.contentGcRuns.inc({ outcome: 'ok' });
      metrics.contentGcRemoved.inc({ kind: 'content' }, r.deleted);
      metrics.contentGcRemoved.inc({ kind: 'tombstone' }, r.tombstones);
      logger.info({ component: 'projector', ...r, seconds: Math.round(performance.now() - started) / 1000 }, 'collected unreferenced xDS content');
    } catch (err) {
      metrics.contentGcRuns.inc({ outcome: 'failed' });
      logger.warn({ component: 'projector', err: (err as Error).message }, 'content collection failed (a failed read removes nothing); trying again at the next interval');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
