import type { Logger } from 'pino';
import type { Actor } from '../../libs/event-log/event.ts';
import { WorkloadIssuer } from '../../libs/ca/issuer.ts';
import { MESH_IDENTITY, MESH_TRUST } from '../../libs/ca/mesh-identity.ts';
import { SignPool } from '../../libs/ca/sign-pool.ts';
import type { KumaCpConfig } from '../../libs/platform/config.ts';
import { parseDuration } from '../../libs/platform/duration.ts';
import type { Lifecycle } from '../../libs/platform/lifecycle.ts';
import type { CurrentState } from '../../libs/projection/current-state.ts';
import type { TypeRegistry } from '../../libs/resources/registry.ts';
import { secretData } from '../../libs/resources/secret.ts';
import type { ResourceInput } from '../../libs/resources/wire.ts';
import { DemandBoard } from '../../libs/snapshot-store/demands.ts';
import { FabricSnapshotSource } from '../../libs/snapshot-store/fabric-source.ts';
import type { FabricStores } from '../../libs/snapshot-store/fabric-stores.ts';
import type { Membership } from '../../libs/snapshot-store/membership.ts';
import type { DataplaneTokens } from '../../libs/tokens/signing-keys.ts';
import { REVOCATIONS_SECRET, Revocations } from '../../libs/tokens/revocations.ts';
import type { XdsMetrics } from '../../libs/xds/metrics.ts';
import type { SnapshotSource } from '../../libs/xds/snapshot-cache.ts';
import { noAuthentication, ServiceAccountTokenAuthenticator, TokenAuthenticator, type ServiceAccountReview } from './authn.ts';
import { TokenReviewer } from '../../libs/kubernetes/token-review.ts';
import * as k8s from '@kubernetes/client-node';
import { ByNameBudget } from './by-name-budget.ts';
import { startGateway } from './gateway.ts';
import { OrphanedDemands } from './orphaned-demands.ts';
import { OrphanedRegistrations } from './orphans.ts';
import type { ProxyId } from './proxy-id.ts';
import { dataplaneFromNode, DataplaneLifecycle } from './registration.ts';
import { StreamStatusRegistry } from './status.ts';
import { RegistrationError } from './stream.ts';
import { loadOrCreateTls } from './tls.ts';

/** Responses awaiting ACKs above which a gateway counts as pushing configuration (a few stuck proxies do not count). */
export const PUSHING_THRESHOLD = 64;
/** How often a gateway looks for registrations and demands left by gateways that died (in memory; cheap). */
const ORPHAN_SWEEP_INTERVAL_MS = 500;

/** How the gateway writes the Dataplanes it registers for proxies (kuma-dp `--dataplane-file`): the API's resource service. */
export interface DataplaneWriter {
  upsert(input: ResourceInput, actor: Actor): Promise<void>;
  /** Deletes at `expectedVersion` when given (a resource written since stays). */
  delete(ref: { readonly type: 'Dataplane'; readonly mesh: string; readonly name: string }, actor: Actor, expectedVersion?: number): Promise<void>;
}

export interface GatewayRoleContext {
  readonly config: KumaCpConfig;
  readonly instanceId: string;
  /** This process's member id (a token of `[A-Za-z0-9_-]`). */
  readonly memberId: string;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  readonly metrics: XdsMetrics;
  readonly registry: TypeRegistry;
  /** The log's state as this process follows it (Meshes, Dataplanes, token keys, CA secrets and identities are read). */
  readonly state: () => CurrentState;
  readonly tokens: DataplaneTokens;
  readonly writer: DataplaneWriter;
  /**
   * Where the snapshots come from: the fabric (every gateway on it serves any proxy, the
   * projectors' manifests followed by key), or, in process, the projector role's cache.
   */
  readonly snapshots: { readonly fabric: FabricStores } | { readonly local: SnapshotSource };
}

export interface GatewayRole {
  readonly ports: { readonly dpServer: number; readonly dpServerPlaintext: number };
  /** In process (no fabric): a proxy's connection status (DataplaneInsight); on a fabric the status board has it. */
  readonly insightOf?: (mesh: string, name: string) => Record<string, unknown> | undefined;
}

/**
 * The gateway role: the data plane server (ADS over gRPC, SotW and delta; bootstrap; SDS-style
 * certificates), authentication of proxies, Dataplane registration and deregistration, and
 * stream status. On a fabric it also shares the registered Dataplanes and by-name demands with
 * the other gateways, so the survivors clean up after one that died.
 */
export async function startGatewayRole(ctx: GatewayRoleContext): Promise<GatewayRole> {
  const { config, logger, lifecycle, state } = ctx;
  const metrics = ctx.metrics;
  const fabric = 'fabric' in ctx.snapshots ? ctx.snapshots.fabric : undefined;
  let source: SnapshotSource;
  let fabricSource: FabricSnapshotSource | undefined;
  if (fabric) {
    const fs = (fabricSource = new FabricSnapshotSource(
      fabric.fabric,
      fabric.manifests,
      fabric.content,
      logger,
      { onContent: (outcome) => metrics.contentLookups.inc({ outcome }), onStaleManifest: () => metrics.staleManifests.inc() },
      { demandAs: ctx.memberId },
    ));
    source = fs;
    const timer = setInterval(() => metrics.contentCacheBytes.set(fs.cacheBytes), 5000);
    timer.unref();
    lifecycle.onShutdown('snapshot source', async () => {
      clearInterval(timer);
      fs.close();
    });
  } else source = (ctx.snapshots as { local: SnapshotSource }).local;

  const status = new StreamStatusRegistry();
  const board = fabric?.status;
  if (board) {
    const insight = (key: string) => status.insight(key);
    status.onChange((key, urgent) => board.changed(key, insight, urgent));
  }
  /** Connected to any gateway of the cluster (a proxy that moved must not be deregistered by the old one). */
  const connectedAnywhere = async (key: string): Promise<boolean> => {
    if (status.connected(key)) return true;
    const subs = ((await board?.read(key))?.['subscriptions'] ?? []) as { disconnectTime?: string; controlPlaneInstanceId?: string }[];
    return subs.some((s) => !s.disconnectTime && s.controlPlaneInstanceId !== ctx.instanceId);
  };
  const deregistrationDelayMs = parseDuration(config.xdsServer.dataplaneDeregistrationDelay) * 1000;
  const orphans = fabric ? await startOrphanSweep(ctx, fabric, status, deregistrationDelayMs) : undefined;
  if (orphans && fabricSource) await startDemandSweep(ctx, fabric!, fabricSource, orphans.membership, deregistrationDelayMs);
  const tls = await loadOrCreateTls({ certFile: config.general.tlsCertFile, keyFile: config.general.tlsKeyFile, workDir: config.general.workDir, logger, config });
  const authnType = config.dpServer.authn.dpProxy.type || (config.store.type === 'kubernetes' ? 'serviceAccountToken' : 'dpToken');
  const noAuth = authnType === 'none';
  if (noAuth) logger.warn({ component: 'dp-server' }, 'dataplane authentication is OFF (dpServer.authn.dpProxy.type=none): serving on loopback only');
  const stored = (proxy: ProxyId) => state().get({ type: 'Dataplane', mesh: proxy.mesh, name: proxy.name });
  // Kuma's revocation Secret per mesh: refused from then on, and live streams with a revoked token closed.
  const revocations = new Revocations((mesh) => {
    const r = state().get({ type: 'Secret', mesh, name: REVOCATIONS_SECRET(mesh) });
    const data = secretData(r);
    return r && data !== undefined ? { data, version: r.meta.version } : undefined;
  }, 1000, (serial) => ctx.tokens.hasKey(serial));
  lifecycle.onShutdown('token revocations', async () => revocations.stop());
  // Workload certificates are signed on worker threads (all cores but one; at least one worker).
  const signPool = new SignPool();
  lifecycle.onShutdown('certificate signers', () => signPool.close());
  const authenticator = noAuth
    ? noAuthentication
    : authnType === 'serviceAccountToken'
      ? new ServiceAccountTokenAuthenticator(serviceAccountReview(), (proxy) => stored(proxy)?.meta.labels)
      : new TokenAuthenticator(ctx.tokens, (proxy, node) => (node ? dataplaneFromNode(node, ctx.registry, proxy)?.spec : undefined) ?? stored(proxy)?.spec, revocations);
  const registrations = new DataplaneLifecycle(
    {
      upsert: async (input, actor) => {
        // On Kubernetes the Pod controller writes a Pod's Dataplane: a proxy must not describe itself.
        if (config.store.type === 'kubernetes') {
          throw new RegistrationError(`dataplane ${input.mesh}.${input.name}: on Kubernetes the control plane writes the Dataplane from the Pod; kuma-dp must not send one (--dataplane-file)`);
        }
        if (!state().get({ type: 'Mesh', name: input.mesh ?? '' })) {
          throw new RegistrationError(`cannot register dataplane ${input.mesh}.${input.name}: mesh "${input.mesh}" does not exist`);
        }
        await ctx.writer.upsert(input, actor);
        await orphans?.claim(actor.subject);
      },
      remove: async (proxy, actor) => {
        await ctx.writer.delete({ type: 'Dataplane', mesh: proxy.mesh, name: proxy.name }, actor);
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
      source,
      status,
      instanceId: ctx.instanceId,
      logger,
      metrics,
      authenticate: (proxy, token, node) => authenticator.authenticate(proxy, token, node),
      revocations,
      onConnect: (proxy, node) => registrations.onConnect(proxy, node),
      onDisconnect: (proxy) => registrations.onDisconnect(proxy),
      registry: ctx.registry,
      dataplane: (proxy) => stored(proxy)?.spec,
      dataplaneLabels: (proxy) => stored(proxy)?.meta.labels,
      issuer: new WorkloadIssuer(
        {
          mesh: (name) => state().get({ type: 'Mesh', name })?.spec,
          secret: (mesh, name) => secretData(state().get({ type: 'Secret', mesh, name })),
          secretNames: (mesh) => state().list('Secret', mesh).map((r) => r.meta.name),
          identities: (mesh) => state().list(MESH_IDENTITY, mesh),
          trusts: (mesh) => state().list(MESH_TRUST, mesh),
          zone: config.multizone.zone.name,
        },
        Math.random,
        signPool,
      ),
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
        onReject: (reason) => metrics.rejectedConnections.inc({ reason }),
      },
    },
    logger,
  );
  lifecycle.onShutdown('data plane server', () => gw.close());
  return {
    ports: { dpServer: gw.tlsPort, dpServerPlaintext: gw.plaintextPort },
    ...(board ? {} : { insightOf: (mesh: string, name: string) => status.insight(`${mesh}.${name}`) }),
  };
}

/**
 * Gateways' share of registered Dataplanes: each gateway records the Dataplanes it registers
 * (RegistrationBoard) and joins a gateway membership; the survivors of a gateway that died
 * deregister its Dataplanes whose proxies did not reconnect elsewhere within the
 * deregistration delay (OrphanedRegistrations). Returns the claim and release hooks.
 */
async function startOrphanSweep(
  ctx: GatewayRoleContext,
  fabric: FabricStores,
  status: StreamStatusRegistry,
  delayMs: number,
): Promise<{ claim(proxyKey: string): Promise<void>; release(proxyKey: string): Promise<void>; readonly membership: Membership }> {
  const { logger, lifecycle, state } = ctx;
  const self = ctx.memberId;
  const registrations = await fabric.registrations(logger);
  await registrations.startMirror();
  const membership = fabric.membership('gateway', self, logger);
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
      const subs = ((await fabric.status.read(key))?.['subscriptions'] ?? []) as { disconnectTime?: string; controlPlaneInstanceId?: string }[];
      return subs.some((s) => !s.disconnectTime && live.has(memberIdOf(s.controlPlaneInstanceId ?? '')));
    },
    deregister: async (key) => {
      const dot = key.indexOf('.');
      const ref = { type: 'Dataplane' as const, mesh: key.slice(0, dot), name: key.slice(dot + 1) };
      if (!state().get(ref)) return;
      // At the version looked at: a proxy that re-registered meanwhile (a newer version) stays.
      await ctx.writer.delete(ref, { subject: key, source: 'dp-registration' }, state().version(ref));
    },
  });
  const stopSweeps = sweepOften(() => void sweeper.sweep(), membership);
  lifecycle.onShutdown('gateway membership', async () => {
    stopSweeps();
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
async function startDemandSweep(ctx: GatewayRoleContext, fabric: FabricStores, source: FabricSnapshotSource, membership: Membership, graceMs: number): Promise<void> {
  const { logger, lifecycle } = ctx;
  const self = ctx.memberId;
  const demands = new DemandBoard(fabric.manifests, logger);
  await demands.start((_key, record) => {
    if (record.gateway === self) source.reassert(record.serviceKey);
  });
  const sweeper = new OrphanedDemands({ demands, self, members: () => membership.members, wants: (key) => source.demands(key), graceMs, logger });
  const stopSweeps = sweepOften(() => void sweeper.sweep(), membership);
  lifecycle.onShutdown('by-name demand sweep', async () => {
    stopSweeps();
    await demands.close();
  });
}

/** Runs `sweep` every ORPHAN_SWEEP_INTERVAL_MS and on every membership change; returns what stops the timer. */
function sweepOften(sweep: () => void, membership: Membership): () => void {
  const timer = setInterval(sweep, ORPHAN_SWEEP_INTERVAL_MS);
  timer.unref();
  membership.onChange(sweep);
  return () => clearInterval(timer);
}

/** A control plane instance id as a member id (a token of `[A-Za-z0-9_-]`). */
export const memberIdOf = (instanceId: string): string => instanceId.replace(/[^A-Za-z0-9_-]/g, '-');

/** TokenReviews through the cluster kuma-cp follows (KUBECONFIG, else the in-cluster service account). */
function serviceAccountReview(): ServiceAccountReview {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const reviewer = new TokenReviewer(kc);
  return (token) => reviewer.review(token);
}
